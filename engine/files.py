"""Writing terrane's files so that a reader sees the old content or the new, and a kill leaves no debris.

Each write goes to ``.<name>.<pid>.partial`` beside the target, is flushed to
disk and renamed over it. A writer killed before the rename leaves its partial
file; the next write of the same target removes those whose writer is gone.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_SUFFIX = ".partial"


def write_atomically(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``text``; ``mode`` defaults to the old file's, else 0644."""
    _prepare(path)
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    partial = _write_partial(path, text, mode)
    try:
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def create_private(path: Path) -> Path:
    """``path`` (mode 0600) holding a random token, made once: never replaced, never seen half written."""
    if path.exists():
        return path
    _prepare(path)
    partial = _write_partial(path, secrets.token_urlsafe(32), 0o600)
    try:
        os.link(partial, path)  # fails if another process made it first: theirs stands
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)
    return path


def _prepare(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for partial in path.parent.glob(f".{path.name}.*{_SUFFIX}"):
        pid = partial.name.removeprefix(f".{path.name}.").removesuffix(_SUFFIX)
        if pid.isdigit() and not _alive(int(pid)):
            partial.unlink(missing_ok=True)


def _write_partial(path: Path, text: str, mode: int) -> Path:
    partial = path.with_name(f".{path.name}.{os.getpid()}{_SUFFIX}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(partial, mode)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return partial


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
