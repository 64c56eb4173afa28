"""Reading and writing terrane's files: a read never waits on a pipe or a device, a reader sees the old content
or the new, and a kill leaves no debris.

A file is read only when it is a regular file (a symbolic link is followed) of
at most a given size: a named pipe, a device (``/dev/zero``) or a directory is
refused before a byte is read. Each write goes to ``.<name>.<pid>.partial``
beside the target, is flushed to disk and renamed over it. A writer killed
before the rename leaves its partial file; the next write of the same target
removes those whose writer is gone.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

_SUFFIX = ".partial"
_READ_CHUNK = 65536

# What a file that is not a regular one is, in words.
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class RefusedFileError(Exception):
    """A file that is not read: not a regular file, or larger than the limit; the message says which, in words."""


def read_regular(path: Path, limit: int) -> bytes:
    """The content of ``path``, a regular file (after symbolic links) of at most ``limit`` bytes.

    ``RefusedFileError`` for any other file, checked before it is opened and
    again on what was opened; ``OSError`` when it cannot be opened or read.
    At most ``limit + 1`` bytes are read, whatever the file claims its size is.
    """
    _refuse_special(path, os.stat(path).st_mode)
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a pipe swapped in cannot block
    try:
        _refuse_special(path, os.fstat(descriptor).st_mode)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, min(_READ_CHUNK, limit + 1 - size))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(descriptor)
    raise RefusedFileError(f"it is larger than {_describe_size(limit)}, the most terrane reads of such a file")


def _describe_size(size: int) -> str:
    """``size`` bytes in words: 1 MiB, 512 KiB, 100 bytes."""
    for unit, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def _refuse_special(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    target = f"a symbolic link to {os.readlink(path)}, which is " if path.is_symlink() else ""
    raise RefusedFileError(f"it is {target}{kind}, not a regular file")


def write_atomically(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``text``; ``mode`` defaults to the old file's, else 0644.

    An ``OSError`` of the partial file or of the rename names ``path``, the file the caller asked for.
    """
    _prepare(path)
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    try:
        partial = _write_partial(path, text, mode)
        try:
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        if exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, os.fspath(path)) from exc


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
