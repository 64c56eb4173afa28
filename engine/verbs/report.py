"""``report``: the environments page (every environment's status, drift and history) as one HTML file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from terrane.engine.drift.report import DriftReport
from terrane.engine.errors import InvalidInputError
from terrane.engine.files import write_atomically
from terrane.engine.report import build_page, render_html
from terrane.engine.results import PageWritten, StatusSource


def check_target(path: Path) -> None:
    """Refuse, before anything runs, a file whose directory does not exist."""
    if not path.parent.is_dir():
        raise InvalidInputError(f"--html: directory {path.parent} does not exist (for {path})")


def write_page(source: StatusSource, path: Path, names: Sequence[str] = (), *,
               run: DriftReport | None = None) -> PageWritten:
    """Write the page of ``names`` (every environment when empty), or of the environments ``run`` checked."""
    page = build_page(source, names, run=run)
    write_atomically(path, render_html(page))
    return PageWritten(path, len(page.environments), page.unreadable)
