"""The Pulumi CLI's own logs, kept bounded.

Every run of the Pulumi CLI (3.274 and later) writes a log of its own to ``$PULUMI_HOME/logs`` (by
default ``~/.pulumi/logs``): ``pulumi-<time>-<pid>-<command>.log``, renamed ``<stack>-<time>[-<update>].log``
once it belongs to a stack. Each is gzip'ed JSON lines, encrypted with the stack's secrets provider once
the stack is open; ``pulumi logs list`` lists them and ``pulumi logs decrypt FILE`` reads one. The
Automation API runs the CLI several times per operation (its version, the stack, its config, the
operation, its outputs), so a drift job over many environments leaves thousands of them. Pulumi itself
deletes those older than 7 days and past 500 MB in all (``PULUMI_LOG_ROTATION_MAX_AGE_DAYS``,
``PULUMI_LOG_ROTATION_MAX_TOTAL_MB``), but never caps their number. So before each run terrane keeps
the newest ``MAX_FILES`` of them, ``MAX_BYTES`` at most in all; a log written in the last
``GRACE_SECONDS`` (a run in flight) is never removed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path

MAX_FILES = 500
MAX_BYTES = 64 * 1024 * 1024
GRACE_SECONDS = 600.0

# What Pulumi's own rotation takes for its logs: a .log file whose name holds its time, 20260301T060130.
_LOG = re.compile(r"\d{8}T\d{6}.*\.log$")


def directory(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the Pulumi CLI writes its logs: ``$PULUMI_HOME/logs``, else ``~/.pulumi/logs``."""
    home = environ.get("PULUMI_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".pulumi") / "logs"


def logs(where: Path) -> list[os.DirEntry[str]]:
    """Pulumi's logs in ``where``, newest first."""
    try:
        entries = [entry for entry in os.scandir(where) if _LOG.search(entry.name) and entry.is_file()]
    except OSError:
        return []
    return sorted(entries, key=lambda entry: entry.stat().st_mtime, reverse=True)


def cap(where: Path | None = None, *, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES,
        now: float | None = None) -> int:
    """Remove the oldest of Pulumi's logs past ``max_files`` files or ``max_bytes`` in all; how many went."""
    now = time.time() if now is None else now
    kept = total = removed = 0
    for entry in logs(directory() if where is None else where):
        info = entry.stat()
        if (kept < max_files and total + info.st_size <= max_bytes) or now - info.st_mtime < GRACE_SECONDS:
            kept, total = kept + 1, total + info.st_size
            continue
        try:
            os.unlink(entry.path)
            removed += 1
        except OSError:
            pass  # gone already, or not ours to remove: Pulumi's own rotation still bounds it
    return removed


def usage(where: Path | None = None) -> tuple[int, int]:
    """How many of Pulumi's logs there are, and their bytes in all."""
    found = logs(directory() if where is None else where)
    return len(found), sum(entry.stat().st_size for entry in found)
