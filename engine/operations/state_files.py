"""A file backend's state on disk: where a stack's state and Pulumi's backups of it are, whether it reads,
and whether there is room to write it.

Pulumi's file backend (the default ``.terrane/state``, or a ``file://`` ``TERRANE_BACKEND_URL``) keeps
a stack's state in ``.pulumi/stacks/PROJECT/STACK.json`` (``.json.gz`` or ``.json.zst`` compressed), the
one before it beside it as ``STACK.json.bak``, and after each update a copy in
``.pulumi/backups/PROJECT/STACK/STACK.<nanoseconds>.json``. A full disk can cut short the state and its
``.bak`` alike, leaving those backups the only good copy. So before an operation that writes the state
there must be room (``FREE_FACTOR`` times the state's size, and at least ``MIN_FREE_BYTES``), and after
it the state must read; when it does not, the message names the copy to restore and how.

Nothing here writes, and nothing runs the Pulumi CLI: these are reads of the backend's directory.
"""

from __future__ import annotations

import gzip
import json
import shutil
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from terrane.engine.errors import EngineError

FREE_FACTOR = 4
"""An operation that writes a stack's state needs this many times the state's size free..."""
MIN_FREE_BYTES = 64 * 1024 * 1024
"""...and never less than this."""
WRITES_STATE = ("up", "refresh", "destroy")
"""The operations that write a stack's state (a preview or a drift check never does)."""

_STACKS = Path(".pulumi") / "stacks"
_BACKUPS = Path(".pulumi") / "backups"
_EXTENSIONS = (".json", ".json.gz", ".json.zst")
_MB = 1024 * 1024


def local_directory(url: str) -> Path | None:
    """The directory of a file backend's URL (``file:///srv/state?no_tmp_dir=true``); None for other backends."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(urllib.parse.unquote(parsed.path)).expanduser()


@dataclass(frozen=True)
class StackFiles:
    """Where one stack's state lives in a file backend at ``root``."""

    root: Path
    project: str
    stack: str

    @property
    def state(self) -> Path:
        """The state file: of those there are (plain or compressed), the newest, as Pulumi picks it; else where a
        plain one would be."""
        directory = self.root / _STACKS / self.project
        found = [path for path in (directory / f"{self.stack}{ext}" for ext in _EXTENSIONS) if path.exists()]
        return max(found, key=lambda path: path.stat().st_mtime) if found else directory / f"{self.stack}.json"

    @property
    def backups(self) -> Path:
        """Where Pulumi keeps a copy of the state after each update."""
        return self.root / _BACKUPS / self.project / self.stack

    def unreadable(self) -> str | None:
        """Why the state file does not read; None when it reads (or is not there, or is compressed with zstd,
        which only Pulumi reads)."""
        return _unreadable(self.state)

    def restore_hint(self) -> str:
        """How to restore the state from the newest copy that reads: the ``.bak`` beside it, or a backup."""
        good = self.newest_good_copy()
        if good is None:
            return f"Pulumi keeps backups in {self.backups}/, but none there reads"
        written = datetime.fromtimestamp(good.stat().st_mtime).astimezone().strftime("%Y-%m-%d %H:%M %Z")
        gzipped = good.name.removesuffix(".bak").endswith(".gz")
        target = self.state.with_name(f"{self.stack}{'.json.gz' if gzipped else '.json'}")
        return (f"Pulumi keeps backups in {self.backups}/; restore the newest copy that reads "
                f"(written {written}) with: cp {good} {target}")

    def newest_good_copy(self) -> Path | None:
        """The newest of the ``.bak`` beside the state and the backups that reads."""
        candidates = [self.state.with_name(self.state.name + ".bak")]
        if self.backups.is_dir():  # beside each, the file blob's own <name>.attrs
            candidates += [path for path in self.backups.iterdir() if path.name.endswith(_EXTENSIONS)]
        existing = [path for path in candidates if path.is_file()]
        for path in sorted(existing, key=lambda path: path.stat().st_mtime, reverse=True):
            if _unreadable(path) is None and not _zstd(path):
                return path
        return None

    def room(self, operation: str) -> str | None:
        """Why ``operation`` may not write the state here: too little free space; None when there is room."""
        state = self.state
        size = state.stat().st_size if state.is_file() else 0
        needed = needed_for(size)
        _, free = free_space(self.root)
        if free >= needed:
            return None
        return (f"no room to {operation} safely: {size_text(free)} free on the filesystem of the state "
                f"({self.root}), {size_text(needed)} needed ({FREE_FACTOR} times the {size_text(size)} state, at least "
                f"{size_text(MIN_FREE_BYTES)}), since a full disk can cut the state short. Free some space there; "
                f"nothing was changed")

    def unread_after(self, operation: str) -> str | None:
        """What to say when the state does not read after ``operation``; None when it reads."""
        reason = self.unreadable()
        if reason is None:
            return None
        return (f"{self.stack}'s state {self.state} does not read after the {operation} ({reason}). "
                f"{self.restore_hint()}; then run terrane refresh {self.stack}")


def check_room(operation: str, backend_url: str, project: str, stack: str) -> None:
    """Refuse (``EngineError``) an operation that would write ``stack``'s state on a file backend without room."""
    root = local_directory(backend_url)
    refusal = StackFiles(root, project, stack).room(operation) if root and operation in WRITES_STATE else None
    if refusal:
        raise EngineError(refusal)


def after_writing(operation: str, backend_url: str, project: str, stack: str) -> str | None:
    """After an operation that writes ``stack``'s state on a file backend: how to restore it if it does not read."""
    root = local_directory(backend_url)
    return StackFiles(root, project, stack).unread_after(operation) if root and operation in WRITES_STATE else None


def needed_for(size: int) -> int:
    """The free bytes an operation needs to write a state of ``size`` bytes safely."""
    return max(FREE_FACTOR * size, MIN_FREE_BYTES)


def largest_state(root: Path) -> int:
    """The size of the largest stack state in the file backend at ``root``; 0 when it holds none."""
    stacks = root / _STACKS
    sizes = [path.stat().st_size for ext in _EXTENSIONS for path in stacks.glob(f"*/*{ext}")] if stacks.is_dir() else []
    return max(sizes, default=0)


def free_space(root: Path) -> tuple[Path, int]:
    """The nearest existing directory of ``root`` and the bytes free on its filesystem."""
    where = next(directory for directory in (root, *root.parents) if directory.exists())
    return where, shutil.disk_usage(where).free


def _unreadable(path: Path) -> str | None:
    if _zstd(path):
        return None
    try:
        data = path.read_bytes()
        if path.name.endswith(".gz") or data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        checkpoint = json.loads(data)
    except FileNotFoundError:
        return None
    except (OSError, EOFError) as exc:
        return f"cannot read it: {exc}"
    except ValueError as exc:
        return "empty" if not data.strip() else f"not JSON: {exc}"
    if not isinstance(checkpoint, dict) or "version" not in checkpoint:
        return "not a Pulumi state: no version"
    return None


def _zstd(path: Path) -> bool:
    return path.name.endswith(".zst")


def size_text(size: int) -> str:
    """A size as a reader scans it: ``0.3 MB``, ``64 MB``, ``41 GB``."""
    if size >= 10 * 1024 * _MB:
        return f"{size // (1024 * _MB)} GB"
    return f"{size / _MB:.1f} MB" if size < 10 * _MB else f"{size // _MB} MB"
