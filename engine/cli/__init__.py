"""The ``terrane`` command: parses arguments, calls the engine, renders what it returns.

Only ``main`` catches errors: it prints one line per problem on stderr and
returns the exit code of ``engine.errors.ExitCode``. A path in terrane's way (a
file where its directory belongs, a file it may not write) is invalid input,
named; a reader that closes the pipe early (``| head``) ends the command quietly,
as it ends git or cat. Pulumi and cloud SDKs are imported by the commands that
need them, never here, so ``terrane --help`` starts fast.
"""

from __future__ import annotations

import errno
import gc
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import click

from terrane.engine.cli.app import ClosedPipeError, cli
from terrane.engine.errors import ExitCode, TerraneError

__all__ = ["entry", "main"]

# A terrane command is a short process that imports large provider SDKs (a
# plan of azure-native loads thousands of classes). Python's default collects
# every 700 allocations, which during those imports is a fifth of a plan's
# time and frees next to nothing; a command ends before memory would matter.
_GC_THRESHOLD = (100_000, 50, 50)

# A command group given nothing: click 8.2 raises this, where older ones printed the help and exited 0 themselves.
_NO_ARGS_IS_HELP: type[click.UsageError] | tuple[()] = getattr(click.exceptions, "NoArgsIsHelpError", ())

CLOSED_PIPE = 128 + signal.SIGPIPE
"""The exit code when the reader of stdout went away: a shell's for a command that SIGPIPE ended (141), as git's."""


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
        sys.stdout.flush()  # now, not at exit, where a closed pipe could no longer be told apart
    except click.exceptions.Exit as done:
        return done.exit_code
    except _NO_ARGS_IS_HELP as exc:  # `terrane`, `terrane accounts`: what there is to run
        print(exc.ctx.get_help() if exc.ctx else exc.format_message())
        return ExitCode.OK
    except click.UsageError as exc:
        message = exc.format_message().rstrip()
        # The command's own --help, which lists the flags it takes: `terrane accounts bootstrap aws --help`.
        _error(f"{message}{'' if message.endswith(('.', '?')) else '.'} "
               f"See '{exc.ctx.command_path if exc.ctx else 'terrane'} --help'.")
        return ExitCode.INVALID_INPUT
    except click.ClickException as exc:
        _error(exc.format_message(), hint="run 'terrane --help' for usage")
        return ExitCode.INVALID_INPUT
    except (ClosedPipeError, BrokenPipeError):
        return _closed_pipe()
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
        in_the_way = _in_the_way(exc) if isinstance(exc, OSError) else None
        if in_the_way:
            _error(in_the_way)
            return ExitCode.INVALID_INPUT
        _error(f"unexpected {type(exc).__name__}: {exc}", hint=None if verbose else "run with -v for the traceback")
        return ExitCode.FAILURE
    return int(result or ExitCode.OK)


def _closed_pipe() -> int:
    """The reader of stdout is gone: nothing more to say, to it or at exit (Python flushes stdout as it ends)."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return CLOSED_PIPE  # not a file (a test's capture): nothing is flushed into a pipe at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)
    return CLOSED_PIPE


def _in_the_way(exc: OSError) -> str | None:
    """The line for a path that keeps terrane from its files, and what to do: a file where it needs a directory, a
    directory where it needs a file, a file or directory it may not write. None for any other error."""
    if exc.filename is None:
        return None
    path = Path(os.fsdecode(exc.filename))
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        in_path = (*reversed(path.parents), path)
        blocker = next((part for part in in_path if part.exists() and not part.is_dir()), None)
        if blocker is not None:
            return f"{blocker} is a file where terrane needs a directory: move it away, and terrane makes the directory"
    if exc.errno == errno.EISDIR and path.is_dir():
        return f"{path} is a directory where terrane needs a file: move it away, or name another file"
    remedy = _REMEDIES.get(exc.errno) if exc.errno is not None else None
    return f"{path}: {exc.strerror}; {remedy}" if remedy else None


_REMEDIES = {
    errno.EACCES: "give this user access to it and to its directory",
    errno.EPERM: "if it is immutable ('i' in lsattr), clear that with chattr -i",
    errno.EROFS: "terrane writes there: run it on a copy of the project on a writable disk",
}


def _error(message: str, hint: str | None = None) -> None:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"  ({hint})", file=sys.stderr)
