"""Writing to the terminal: machine output on stdout, everything else on stderr.

rich loads with the first console asked for: ``--help`` and ``--json`` output need none.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

# When stdout is a pipe or a file, lines are not cut to a made-up terminal width.
_UNBOUNDED = 1_000


def stdout() -> Console:
    width = None if sys.stdout.isatty() else _UNBOUNDED
    return _console()(highlight=False, emoji=False, soft_wrap=True, width=width)


def stderr() -> Console:
    return _console()(stderr=True, highlight=False, emoji=False, soft_wrap=True)


@functools.cache
def _console() -> type[Console]:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich would end the process with exit code 1, a failure's: the reader went away, ``main`` says so.
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return _Console


def count(number: int, noun: str) -> str:
    """``1 resource``, ``2 resources``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
