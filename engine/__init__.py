"""terrane's engine: projects, offline plans and (soon) stack operations.

The public Python API is re-exported here. It is loaded lazily, so importing
``engine`` (which the CLI does) pulls in neither Pulumi nor a cloud SDK.

    >>> from engine import open_project, plan
    >>> result = plan(open_project("."), "aws-dev")
    >>> result.count_by_type()["aws:ec2/subnet:Subnet"]
    6
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError, ExitCode, InvalidInputError, SpecError, TerraneError

if TYPE_CHECKING:
    from engine.offline import Plan, plan
    from engine.project import Project, open_project

__all__ = [
    "EngineError",
    "ExitCode",
    "InvalidInputError",
    "Plan",
    "Project",
    "SpecError",
    "TerraneError",
    "open_project",
    "plan",
]

_LAZY = {"Plan": "engine.offline", "plan": "engine.offline", "Project": "engine.project", "open_project": "engine.project"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
