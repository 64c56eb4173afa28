"""The one error hierarchy of terrane and the exit code each error maps to.

Library code raises these; only the CLI entry point catches them, prints the
message and exits with ``exit_code``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    CHANGES = 2
    INVALID_INPUT = 3


class TerraneError(Exception):
    """Root of every error terrane reports to a user; ``hint`` says how to fix it."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def one_line(self) -> str:
        """The message on one line, for a report row about one environment among others."""
        return "; ".join(line.strip() for line in str(self).splitlines() if line.strip())


class InvalidInputError(TerraneError):
    """Bad flag, invalid spec, unknown environment or account: nothing was run."""

    exit_code = ExitCode.INVALID_INPUT


class SpecError(InvalidInputError):
    """One or more problems in a project file, each naming the file and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class EngineError(TerraneError):
    """The program, the engine or a cloud failed while running."""


class SchemaError(EngineError):
    """A program asks a provider for inputs its schema refuses: a defect in terrane, found offline.

    ``problems`` lists every refused input, one line each naming the resource and the property path.
    """

    SHOWN = 10

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[: self.SHOWN]
        more = [f"... and {len(problems) - self.SHOWN} more"] if len(problems) > self.SHOWN else []
        super().__init__(
            "\n".join(["the program registers inputs its provider would refuse:", *shown, *more]),
            hint="a defect in terrane's components or programs, not in the environment's spec: please report it",
        )
