"""Live progress of stack operations on stderr, and the summary that follows.

On a terminal, a table redraws in place: per environment, resources done out
of those announced so far, what is running now, and the elapsed time. Elsewhere (CI logs), one line per
finished or failed resource.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Self

from rich.live import Live
from rich.markup import escape
from rich.text import Text

from terrane.engine.cli import output
from terrane.engine.cli.tables import PlainTable

if TYPE_CHECKING:
    from terrane.engine.results import OperationResult, Progress

_PAST = {"create": "created", "update": "updated", "delete": "deleted", "replace": "replaced", "same": "unchanged",
         "refresh": "refreshed", "read": "read", "create-replacement": "created", "delete-replaced": "deleted",
         "import": "imported"}
_ING = {"create": "creating", "update": "updating", "delete": "deleting", "replace": "replacing", "same": "checking",
        "refresh": "refreshing", "read": "reading", "create-replacement": "creating", "delete-replaced": "deleting",
        "import": "importing"}


# Steps that change nothing: a preview has nothing to say of them.
_UNCHANGED = ("same", "read", "refresh")
_VERB = {"create-replacement": "create the replacement of", "delete-replaced": "delete the replaced"}


@dataclass
class _Environment:
    started: float = field(default_factory=time.monotonic)
    done: set[str] = field(default_factory=set)
    """Resources whose step finished (the engine may report a resource's outputs more than once)."""
    failed: int = 0
    current: str = "starting"
    seen: set[str] = field(default_factory=set)
    """Resources the engine has announced: the total so far, as a program registers them as it runs."""

    @property
    def count(self) -> str:
        return f"{len(self.done)}/{len(self.seen)}"


class ProgressView:
    """Receives ``Progress`` from driver threads; draws it on stderr."""

    def __init__(self, operation: str) -> None:
        self._lock = threading.Lock()
        self._console = output.stderr()
        self._restart(operation)

    def __enter__(self) -> Self:
        if self._live:
            self._live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        """Take the table off the terminal, so that what follows prints below it."""
        if self._live:
            self._live.stop()

    def start(self, operation: str) -> None:
        """Show the progress of a next operation, from nothing."""
        with self._lock:
            self._restart(operation)
        self.__enter__()

    def _restart(self, operation: str) -> None:
        self.operation = operation
        # Rows appear as environments report: only those the engine actually runs.
        self._state: dict[str, _Environment] = {}
        self._live = Live(self.table(), console=self._console, refresh_per_second=4, transient=True) if (
            sys.stderr.isatty()
        ) else None

    def __call__(self, progress: Progress) -> None:
        with self._lock:
            state = self._state.setdefault(progress.environment, _Environment())
            line = self._apply(state, progress)
            if self._live:
                self._live.update(self.table())
            # A terminal's table shows what runs; warnings and errors are printed above it too.
            if line and (not self._live or progress.phase in ("warning", "diagnostic")):
                self._console.print(f"{progress.environment}: {line}", markup=False)

    def _apply(self, state: _Environment, progress: Progress) -> str | None:
        what = f"{progress.resource_type} {progress.name}"
        if progress.op == "gone" and progress.phase == "done":
            return f"gone from the cloud already: {what}"
        if self.operation == "destroy" and progress.op in _UNCHANGED:
            # A destroy reads each resource back first, then runs the program to configure the providers with the
            # account's current credentials: neither deletes anything, and only the deletes are counted.
            if progress.phase == "start":
                state.current = f"{_ING.get(progress.op or '', progress.op)} {what}"
            return None
        if progress.urn:
            state.seen.add(progress.urn)
        if self.operation == "drift" and progress.phase == "done":
            # A preview-only refresh changes nothing: it finds a resource in sync, drifted or gone.
            state.done.add(progress.urn or what)
            found = {"update": "drifted", "delete": "gone from the cloud"}.get(progress.op or "", "checked")
            return f"{found}: {what} ({state.count} done, {_elapsed(state)})" if found != "checked" else None
        if progress.phase == "start":
            state.current = f"{_ING.get(progress.op or '', progress.op)} {what}"
            return None
        if progress.phase == "done":
            state.done.add(progress.urn or what)
            if self.operation == "preview":
                if progress.op in _UNCHANGED:
                    return None
                return f"would {_VERB.get(progress.op or '', progress.op)} {what} ({state.count} planned, {_elapsed(state)})"
            return f"{_PAST.get(progress.op or '', progress.op)} {what} ({state.count} done, {_elapsed(state)})"
        if progress.phase == "failed":
            state.failed += 1
            return f"failed to {progress.op} {what}"
        if progress.phase == "waiting":
            state.current = progress.message or "waiting"
            return progress.message
        if progress.phase == "finished":
            state.current = progress.message or "finished"
            return None
        if progress.phase == "warning":
            return f"warning: {progress.message}"
        return f"error: {progress.message}"

    def table(self) -> PlainTable:
        table = PlainTable("ENVIRONMENT", "DONE", "NOW", "ELAPSED", title=self.operation)
        for name, state in self._state.items():
            failed = f" [red]{state.failed} failed[/]" if state.failed else ""
            table.add_row(name, f"{state.count}{failed}", escape(state.current), _elapsed(state))
        return table


def _elapsed(state: _Environment) -> str:
    seconds = int(time.monotonic() - state.started)
    return f"{seconds // 60}m{seconds % 60:02d}s"


_MARKS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "import": "="}
_PLANNED_WORDS = {"create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete",
                  "import": "to import"}


def changes(results: Sequence[OperationResult]) -> Text:
    """What previews found would change, per environment: each resource, and the property paths it changes."""
    lines: list[Text] = []
    for result in results:
        if not result.ok:
            continue
        counts: Counter[str] = Counter(step.op for step in result.planned)
        said = ", ".join(f"{counts[op]} {words}" for op, words in _PLANNED_WORDS.items() if counts[op])
        lines.append(Text.assemble((f"{result.environment}:", "bold"), f" {said or 'no changes'}"))
        for step in result.planned:
            line = f"  {_MARKS[step.op]:<2} {step.op:<8} {step.type} {step.name}"
            if step.paths:
                line += f"  ({', '.join(step.paths)})"
            if step.op == "import" and step.replaces_id:
                lines.append(Text(f"{line}  over {step.replaces_id}, which it would replace", style="red"))
                continue
            if step.op == "import" and step.replace_keys:
                # The engine would adopt the object, then replace it: up refuses this.
                lines.append(Text(f"{line}  then replace, forced by {', '.join(step.replace_keys)}", style="red"))
                continue
            lines.append(Text(line, style=_STYLES.get(step.op, "")))
    return Text("\n").join(lines)


_STYLES = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red"}


def summary(results: Sequence[OperationResult]) -> PlainTable:
    previewed = all(result.operation == "preview" for result in results)
    done = ("TO CREATE", "TO UPDATE", "TO DELETE", "UNCHANGED") if previewed else ("CREATED", "UPDATED", "DELETED",
                                                                                  "SAME")
    # Adopting existing objects (terrane adopt) is rare: its column shows only when a result has some.
    imported = any(result.changes.get("import") for result in results)
    adopted = ("TO IMPORT" if previewed else "IMPORTED",) if imported else ()
    table = PlainTable("ENVIRONMENT", "RESULT", *done[:1], *adopted, *done[1:], "DURATION")
    for result in results:
        changes = result.changes
        replaced = changes.get("replace", 0)
        table.add_row(
            result.environment,
            result.status,
            str(changes.get("create", 0)),
            *((str(changes.get("import", 0)),) if imported else ()),
            str(changes.get("update", 0) + replaced),
            str(changes.get("delete", 0)),
            str(changes.get("same", 0)),
            f"{result.duration:.1f}s",
        )
    return table
