"""The CLI's tables: borderless columns, and no line that ends in spaces.

rich pads every cell to its column's width, the last column's too, so each row
would end in the spaces that make it as wide as the longest; a table here ends
each line at its last character, as ``ls -l`` or ``kubectl get`` do. Imported
only once a table is drawn: rich loads with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from rich.table import Table

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult


class PlainTable(Table):
    """A rich ``Table`` with no border, no edge padding, and no trailing spaces on any line."""

    def __init__(self, *headers: str, **options: Any) -> None:
        super().__init__(*headers, box=None, pad_edge=False, **options)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in Segment.split_lines(super().__rich_console__(console, options)):  # type: ignore[arg-type]
            yield from _trimmed(line)
            yield Segment.line()


def _trimmed(line: Iterable[Segment]) -> list[Segment]:
    """``line`` without the spaces at its end (a style that only colours them shows nothing)."""
    segments = list(line)
    while segments and not segments[-1].control:
        last = segments.pop()
        text = last.text.rstrip(" ")
        if text:
            segments.append(Segment(text, last.style, last.control))
            break
    return segments
