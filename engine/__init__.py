"""terrane's engine: projects, offline plans, stack operations and account checks.

The public Python API is re-exported here. It is loaded lazily, so importing
``engine`` (which the CLI does) pulls in neither Pulumi nor a cloud SDK.

    >>> from engine import Engine
    >>> engine = Engine(".")
    >>> engine.plan("aws-dev").count_by_type()["aws:ec2/subnet:Subnet"]
    6
    >>> [result] = engine.preview("aws-dev")     # needs the Pulumi CLI
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from engine.errors import (
    EngineError,
    ExitCode,
    InvalidInputError,
    SpecError,
    TerraneError,
)

if TYPE_CHECKING:
    from engine.api import Engine, EnvironmentStatus, Remediation
    from engine.drift import DriftReport
    from engine.driver import OperationResult, Progress, StackOutput
    from engine.offline import Plan, plan
    from engine.project import Project, open_project
    from engine.verify import Verification, verify

__all__ = [
    "DriftReport",
    "Engine",
    "EngineError",
    "EnvironmentStatus",
    "ExitCode",
    "InvalidInputError",
    "OperationResult",
    "Plan",
    "Progress",
    "Project",
    "Remediation",
    "SpecError",
    "StackOutput",
    "TerraneError",
    "Verification",
    "open_project",
    "plan",
    "verify",
]

_LAZY = {
    "DriftReport": "engine.drift",
    "Engine": "engine.api",
    "EnvironmentStatus": "engine.api",
    "Remediation": "engine.api",
    "OperationResult": "engine.driver",
    "StackOutput": "engine.driver",
    "Progress": "engine.driver",
    "Plan": "engine.offline",
    "plan": "engine.offline",
    "Project": "engine.project",
    "open_project": "engine.project",
    "Verification": "engine.verify",
    "verify": "engine.verify",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
