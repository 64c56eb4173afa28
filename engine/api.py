"""terrane from Python: the engine behind the CLI, with typed results.

    from engine import Engine

    engine = Engine("path/to/project")          # or Engine() for $TERRANE_PROJECT / the current directory
    [result] = engine.preview("aws-dev")
    result.changes                              # {"create": 71}
    engine.up("aws-dev", "gcp-dev", parallel=2)
    engine.outputs("aws-dev")["vpc_id"].value

Every method validates first (environments, accounts, secret references, the
Pulumi CLI) and raises ``InvalidInputError`` or ``EngineError`` before anything
runs; once running, each environment's outcome is an ``OperationResult``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from engine.driver import Driver, OnProgress, Operation, OperationResult, Output
from engine.errors import EngineError, InvalidInputError
from engine.offline import Plan, plan
from engine.project import ENVIRONMENTS_DIR, open_project
from stacks.spec import Environment


class Engine:
    def __init__(self, project_dir: str | os.PathLike[str] | None = None, *, on_progress: OnProgress | None = None):
        self.project = open_project(project_dir)
        self._driver = Driver(self.project, on_progress)

    @property
    def on_progress(self) -> OnProgress | None:
        return self._driver.on_progress

    @on_progress.setter
    def on_progress(self, callback: OnProgress | None) -> None:
        self._driver.on_progress = callback or (lambda _: None)

    def environments(self, names: Sequence[str] = (), *, all: bool = False) -> list[Environment]:
        """The named environments (or all of them), each fully validated."""
        if names and all:
            raise InvalidInputError("name environments or use --all, not both")
        if not names and not all:
            raise InvalidInputError("name at least one environment, or use --all")
        chosen = self.project.environment_names() if all else list(dict.fromkeys(names))
        return [self.project.environment(name) for name in chosen]

    def plan(self, name: str) -> Plan:
        return plan(self.project, name)

    def preview(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0) -> list[OperationResult]:
        return self._run("preview", names, all, parallel, wait)

    def up(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0) -> list[OperationResult]:
        return self._run("up", names, all, parallel, wait)

    def refresh(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0) -> list[OperationResult]:
        return self._run("refresh", names, all, parallel, wait)

    def destroy(self, *names: str, all: bool = False, parallel: int = 1, wait: float = 0) -> list[OperationResult]:
        environments = self.environments(names, all=all)
        protected = [env.name for env in environments if env.protect]
        if protected:
            files = ", ".join(f"{ENVIRONMENTS_DIR}/{name}.yaml" for name in protected)
            raise InvalidInputError(f"refusing to destroy protected environment(s): set protect: false in {files} first")
        return self._driver.run("destroy", environments, parallel=parallel, wait_seconds=wait)

    def outputs(self, name: str) -> dict[str, Output]:
        return self._single("outputs", name).outputs

    def cancel(self, name: str) -> None:
        """Cancel the update running on ``name``'s stack, or clear the lock a killed one left."""
        self._single("cancel", name)

    def _run(
        self, operation: Operation, names: Sequence[str], all: bool, parallel: int, wait: float
    ) -> list[OperationResult]:
        return self._driver.run(operation, self.environments(names, all=all), parallel=parallel, wait_seconds=wait)

    def _single(self, operation: Operation, name: str) -> OperationResult:
        [result] = self._driver.run(operation, self.environments([name]))
        if not result.ok:
            raise EngineError(f"{name}: {result.error}")
        return result
