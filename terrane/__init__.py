"""terrane: environments on AWS, Azure and GCP as Pulumi stacks, from YAML.

The package is one namespace: ``terrane.engine`` (projects, plans, stack
operations, drift, the CLI), ``terrane.stacks`` (the spec and each cloud's
program) and ``terrane.components`` (the ComponentResources). The public Python
API is re-exported here. It is loaded lazily, so importing ``terrane`` (which
the CLI does) pulls in neither Pulumi nor a cloud SDK.

    >>> from terrane import Engine
    >>> engine = Engine(".")
    >>> engine.plan("aws-dev").count_by_type()["aws:ec2/subnet:Subnet"]
    6
    >>> [result] = engine.preview("aws-dev")     # needs the Pulumi CLI
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from terrane.engine.errors import (
    EngineError,
    ExitCode,
    InvalidInputError,
    SpecError,
    TerraneError,
)

if TYPE_CHECKING:
    from terrane.engine.api import Engine, EnvironmentStatus, Remediation
    from terrane.engine.clouds.results import Verification
    from terrane.engine.clouds.verification import verify
    from terrane.engine.drift.report import DriftReport
    from terrane.engine.offline.render import Plan, plan
    from terrane.engine.operations.driver import OperationResult, Progress
    from terrane.engine.operations.protocol import PlannedStep, StackOutput
    from terrane.engine.project import Project, open_project

__all__ = [
    "DriftReport",
    "Engine",
    "EngineError",
    "EnvironmentStatus",
    "ExitCode",
    "InvalidInputError",
    "OperationResult",
    "Plan",
    "PlannedStep",
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
    "DriftReport": "terrane.engine.drift.report",
    "Engine": "terrane.engine.api",
    "EnvironmentStatus": "terrane.engine.api",
    "Remediation": "terrane.engine.api",
    "OperationResult": "terrane.engine.operations.driver",
    "StackOutput": "terrane.engine.operations.protocol",
    "PlannedStep": "terrane.engine.operations.protocol",
    "Progress": "terrane.engine.operations.driver",
    "Plan": "terrane.engine.offline.render",
    "plan": "terrane.engine.offline.render",
    "Project": "terrane.engine.project",
    "open_project": "terrane.engine.project",
    "Verification": "terrane.engine.clouds.results",
    "verify": "terrane.engine.clouds.verification",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'terrane' has no attribute {name!r}")
