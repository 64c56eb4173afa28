"""The ``terrane`` command: parses arguments, calls the engine, renders what it returns.

Only ``main`` catches errors: it prints one line per problem on stderr and
returns the exit code of ``engine.errors.ExitCode``. Pulumi and cloud SDKs are
imported by the commands that need them, never here, so ``terrane --help``
starts fast.
"""

from __future__ import annotations

import gc
import sys
import traceback
from collections.abc import Sequence

import click

from terrane.engine.cli.app import cli
from terrane.engine.errors import ExitCode, TerraneError

__all__ = ["entry", "main"]

# A terrane command is a short process that imports large provider SDKs (a
# plan of azure-native loads thousands of classes). Python's default collects
# every 700 allocations, which during those imports is a fifth of a plan's
# time and frees next to nothing; a command ends before memory would matter.
_GC_THRESHOLD = (100_000, 50, 50)


def entry() -> int:
    """The ``terrane`` console script: ``main`` with the collector tuned for a short process."""
    gc.set_threshold(*_GC_THRESHOLD)
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # Known before parsing, so that a failure while parsing can show its traceback too.
    verbose = any(arg in ("-v", "--verbose") for arg in args)
    try:
        result = cli.main(args=args, prog_name="terrane", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as exc:
        _error(exc.format_message(), hint="run 'terrane --help' for usage")
        return ExitCode.INVALID_INPUT
    except (click.Abort, KeyboardInterrupt):
        _error("interrupted")
        return ExitCode.FAILURE
    except TerraneError as exc:
        if verbose:
            traceback.print_exc()
        lines = str(exc).splitlines()
        for line in lines[:-1]:
            _error(line)
        _error(lines[-1] if lines else type(exc).__name__, hint=exc.hint)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the single catch point: one line, the traceback only with -v
        if verbose:
            traceback.print_exc()
        _error(f"unexpected {type(exc).__name__}: {exc}", hint=None if verbose else "run with -v for the traceback")
        return ExitCode.FAILURE
    return int(result or ExitCode.OK)


def _error(message: str, hint: str | None = None) -> None:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"  ({hint})", file=sys.stderr)
