"""The process tree as /proc shows it: who is whose parent."""

from __future__ import annotations

from pathlib import Path


def parents() -> dict[int, int]:
    """Every process's parent pid."""
    found: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(stat.parent.name)] = int(fields[1])
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``: children, then theirs."""
    tree = parents()
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in tree.items() if parent in frontier]
        found += children
        frontier = children
    return found
