"""Each environment's drift state over time, read from the drift history and cut down to a few marks.

A year of hourly runs is 8,760 runs per environment; the page shows at most
``MAX_MARKS`` marks each. Runs are grouped by day (UTC) and a day takes the
worst state it saw (``error`` over ``drifted`` over ``in_sync``); consecutive
days in the same state make one mark. When an environment's state changes so
often that this still leaves more than ``MAX_MARKS``, days are grouped into
periods of 2, 4, 7, 14... days instead, each again with its worst state. The
counts of runs per state are exact whatever the grouping.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

MAX_MARKS = 48
PERIODS = (1, 2, 4, 7, 14, 30, 91, 365)
"""The lengths, in days, a mark can stand for: the shortest that keeps an environment within MAX_MARKS."""

# A period's state is the worst of its runs'.
SEVERITY = {"not_deployed": 0, "in_sync": 1, "drifted": 2, "error": 3}


@dataclass(frozen=True)
class Mark:
    """Consecutive periods in one state: days ``start`` to ``start + days - 1`` of the timeline."""

    start: int
    days: int
    state: str
    label: str
    """The days it covers, ISO 8601: ``2026-11-24`` or ``2026-11-20/2026-11-24``."""


@dataclass(frozen=True)
class StateRuns:
    state: str
    runs: int
    last: str
    """When the last run in this state finished."""


@dataclass(frozen=True)
class Timeline:
    first_day: date
    days: int
    """The span every environment's timeline shares, so that their marks line up."""
    period: int
    """How many days a mark's unit stands for (1: a day)."""
    marks: tuple[Mark, ...] = ()
    runs: tuple[StateRuns, ...] = ()

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    def by_state(self) -> list[tuple[str, list[Mark]]]:
        """The marks of each state, worst state first (the page draws each state's marks as one group)."""
        grouped: dict[str, list[Mark]] = {}
        for mark in sorted(self.marks, key=lambda mark: -SEVERITY.get(mark.state, 0)):
            grouped.setdefault(mark.state, []).append(mark)
        return list(grouped.items())

    @property
    def total_runs(self) -> int:
        return sum(entry.runs for entry in self.runs)


@dataclass
class _Seen:
    """What the history says of one environment, as it is read."""

    days: dict[date, int] = field(default_factory=dict)
    runs: Counter[str] = field(default_factory=Counter)
    last: dict[str, str] = field(default_factory=dict)


def timelines(runs: Iterable[Mapping[str, Any]], names: Collection[str], today: date) -> dict[str, Timeline]:
    """The timeline of each of ``names`` from the history's ``runs`` (an empty one for an environment they
    do not hold).

    The shared span runs from the first day the runs hold for any of them to ``today``. A run whose time
    does not parse is skipped.
    """
    seen = {name: _Seen() for name in names}
    for finished, entry in _entries(runs, seen):
        day = finished.date()
        found = seen[entry["environment"]]
        status = str(entry.get("status"))
        found.days[day] = max(found.days.get(day, 0), SEVERITY.get(status, 0))
        found.runs[status] += 1
        found.last[status] = finished.isoformat()
    first = min((day for found in seen.values() for day in found.days), default=today)
    last = max([today, *(day for found in seen.values() for day in found.days)])
    span = (last - first).days + 1
    return {name: _timeline(found, first, span) for name, found in seen.items()}


def _entries(runs: Iterable[Mapping[str, Any]], wanted: Collection[str]) -> Iterator[tuple[datetime, dict[str, Any]]]:
    """Each recorded check of a wanted environment, with the time its run finished."""
    for run in runs:
        try:
            finished = datetime.fromisoformat(run["finished_at"])
            entries = run["environments"]
        except (ValueError, KeyError, TypeError):
            continue
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, dict) and entry.get("environment") in wanted:
                yield finished, entry


def _timeline(found: _Seen, first: date, span: int) -> Timeline:
    days = {(day - first).days: severity for day, severity in found.days.items()}
    runs = tuple(StateRuns(state, found.runs[state], found.last[state])
                 for state in sorted(found.runs, key=lambda state: -SEVERITY.get(state, 0)))
    for period in PERIODS:
        marks = _marks(days, period, first, span)
        if len(marks) <= MAX_MARKS:
            break
    return Timeline(first_day=first, days=span, period=period, marks=tuple(marks), runs=runs)


_STATE = {severity: state for state, severity in SEVERITY.items()}


def _marks(days: dict[int, int], period: int, first: date, span: int) -> list[Mark]:
    """Runs of consecutive periods in the same worst state; a period without runs breaks a run."""
    periods: dict[int, int] = {}
    for day, severity in days.items():
        periods[day // period] = max(periods.get(day // period, 0), severity)
    marks: list[Mark] = []
    start = previous = -2
    for index in [*sorted(periods), None]:
        if index is not None and index == previous + 1 and periods[index] == periods[previous]:
            previous = index
            continue
        if previous >= 0:
            begin, end = start * period, min((previous + 1) * period, span) - 1
            label = (first + timedelta(days=begin)).isoformat()
            if end > begin:
                label += f"/{(first + timedelta(days=end)).isoformat()}"
            marks.append(Mark(begin, end - begin + 1, _STATE[periods[previous]], label))
        if index is not None:
            start = previous = index
    return marks
