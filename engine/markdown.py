"""Text for people and for Markdown reports: engine errors without terminal codes, counts, and table cells.

A report's cells hold names, paths and engine errors, any of which may carry
characters Markdown would read as markup: a pipe ends a cell, a wildcard makes
italics, a line break ends the row. These helpers keep each value exactly as
written.
"""

from __future__ import annotations

import html
import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain_text(text: str) -> str:
    """Engine errors come with terminal colours; a report or a chat line wants the words."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def row(*cells: str) -> str:
    # In a GFM table a pipe ends the cell even inside a code span; "\|" is the one escape that works in both.
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def text(value: str) -> str:
    """Plain text in a table cell or heading: no HTML, no emphasis from a wildcard, line breaks as ``<br>``."""
    escaped = re.sub(r"([\\`*_~\[\]])", r"\\\1", html.escape(plain_text(value), quote=False))
    return re.sub(r"\r\n|\r|\n", "<br>", escaped)


def code(value: str) -> str:
    """A code span that survives backticks in the value (a longer fence) and newlines (spaces)."""
    value = re.sub(r"[\r\n]+", " ", value)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"
