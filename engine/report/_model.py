"""What the environments page shows, gathered from one status read, the drift history and, for
``drift --html``, the run just done.

Where drift details come from: a drift run's report has each drifted
property's expected and actual values (secrets already ``[secret]``), and each
run leaves its environments' latest report beside the history
(``details.json``, see ``terrane.engine.drift.history``). So ``drift --html``
shows the values of the run it just did, and ``report --html`` those of each
environment's latest check. Where that file has no entry for the latest check
(a project whose last run predates it), the page shows the resources and
property paths the history's fingerprint keeps, and says that their values are
not recorded. Last update is what ``terrane status`` reads in one backend call
(when the state was last written, how many resources it holds) and what its
newest update was, how it ended and the git author of the checkout it ran in:
terrane's record of the update in the shared store, read with one listing,
where that update last wrote the state; else the stack's history (one Pulumi
process per such environment, a few at a time).

Who ran an update is not what Pulumi records: an update's history keeps the
author of the HEAD commit of the checkout it ran in (``git.author``, else
``git.committer``), and no backend's history (``pulumi stack history --json``)
names the user who ran it. So the page says what the name is: "git author of
the checkout: NAME".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from terrane.engine import markdown as md
from terrane.engine.accounts.secrets import MASK
from terrane.engine.drift.history import DriftHistory, project_history
from terrane.engine.drift.report import DriftReport, EnvironmentDrift, ResourceDrift
from terrane.engine.errors import InvalidInputError
from terrane.engine.report._timeline import Timeline, timelines
from terrane.engine.wire import SECRET_SIG, SIG_KEY

if TYPE_CHECKING:
    from terrane.engine.operations.pulumi_cli import UpdateRecord
    from terrane.engine.results import EnvironmentStatus, StatusSource
    from terrane.stacks.spec.environments import IgnoreRule

STATES = ("in_sync", "drifted", "error", "not_deployed", "unchecked")
"""Drift states, in the order the filter offers them; ``unchecked``: no drift run has checked the environment."""
STATE_WORDS = {"in_sync": "in sync", "drifted": "drifted", "error": "could not be checked",
               "not_deployed": "not deployed", "unchecked": "never checked"}
GIT_AUTHOR = "git author of the checkout:"
"""What an update's ``by`` is: the author of the HEAD commit of the checkout it ran in, as Pulumi records it."""
# A table cell has to stay readable (and the page small); a policy document drifting is still one row.
MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class DriftRow:
    """One drifted property, or a whole resource (``path`` empty) that is gone or changed as a whole."""

    urn: str
    type: str
    resource: str
    path: str
    kind: str
    """update, add or delete; empty when not recorded (a row from the history)."""
    expected: str | None
    actual: str | None
    """Values as compact JSON, ``(absent)`` where a side has none; None when not recorded."""


@dataclass(frozen=True)
class DriftDetails:
    values: bool
    """True: a drift report's, with values (the run's, or the latest check's); False: the history's, paths only."""
    checked_at: str | None
    rows: tuple[DriftRow, ...]


@dataclass(frozen=True)
class IgnoredView:
    resource: str
    property: str
    reason: str
    until: str | None
    expired: bool


@dataclass(frozen=True)
class EnvironmentView:
    name: str
    cloud: str
    account: str
    region: str
    state: str
    """One of STATES."""
    error: str | None
    """Why the environment could not be checked, or why its file is invalid."""
    last_update: str | None
    """When the stack's state was last written (ISO 8601); None: no stack, or not known."""
    last_run: UpdateRecord | None
    """What the newest update of the stack's history was, how it ended and its checkout's git author; None: not
    known."""
    resources: int | None
    checked_at: str | None
    drifted: int
    ignored: int
    drift: DriftDetails | None
    ignore_rules: tuple[IgnoredView, ...]
    timeline: Timeline

    @property
    def attributed_to(self) -> str | None:
        """Whom the newest update is attributed to, saying what that is; None when its history names no one."""
        by = self.last_run.by if self.last_run else None
        return f"{GIT_AUTHOR} {by}" if by else None


@dataclass(frozen=True)
class Page:
    generated_at: str
    environments: tuple[EnvironmentView, ...]
    run: tuple[str, str] | None = None
    """``drift --html``: when the run the page shows started and finished; None for ``report --html``."""
    unreadable: tuple[tuple[str, str], ...] = ()
    """(environment, why) for each one that cannot be read now: its file is invalid, or its state does not
    read or is missing. It is on the page as an error; ``report`` exits 1."""

    def options(self, attribute: Literal["cloud", "account", "state"]) -> list[str]:
        """The values present, in the filter's order: states as STATES lists them, the others sorted."""
        present = {getattr(env, attribute) for env in self.environments}
        return [state for state in STATES if state in present] if attribute == "state" else sorted(present)

    def groups(self) -> list[tuple[tuple[str, str], list[EnvironmentView]]]:
        """The environments grouped by (cloud, account), in page order."""
        grouped: dict[tuple[str, str], list[EnvironmentView]] = {}
        for env in self.environments:
            grouped.setdefault((env.cloud, env.account), []).append(env)
        return list(grouped.items())


def build_page(engine: StatusSource, names: Sequence[str] = (), *, run: DriftReport | None = None,
               now: datetime | None = None) -> Page:
    """The page of ``names`` (every environment when empty), or of the environments ``run`` checked.

    Reads the backend once (``status()``, the Engine's) and the drift history once.
    An unknown name raises ``InvalidInputError`` before anything is read.
    """
    if run is not None:
        names = [env.environment for env in run.environments]
    for name in names:
        engine.project.environment_file(name)  # raises for an unknown environment
    statuses = engine.status()
    chosen = list(dict.fromkeys(names)) or [row.environment for row in statuses]
    written = {row.environment: str(row.last_update["time"]) for row in statuses
               if row.environment in chosen and row.last_update}
    return assemble_page(statuses, history=project_history(engine.project.root),
                         rules={name: _rules(engine, name) for name in chosen}, names=chosen, run=run, now=now,
                         updates=engine.last_updates(list(written), listed=written))


def assemble_page(statuses: Sequence[EnvironmentStatus], *, history: DriftHistory,
                  rules: Mapping[str, Sequence[IgnoreRule]] | None = None, names: Sequence[str] = (),
                  run: DriftReport | None = None, now: datetime | None = None,
                  updates: Mapping[str, UpdateRecord] | None = None) -> Page:
    """The page from what ``build_page`` read: statuses, the drift history, each environment's ignore rules and
    the newest update of its stack.

    ``names`` chooses (every status when empty); with ``run``, its environments' states and values win.
    """
    by_name = {row.environment: row for row in statuses}
    chosen = list(dict.fromkeys(names)) or list(by_name)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    history_of = timelines(history.runs(), chosen, now.date())
    checked = {env.environment: env for env in run.environments} if run else {}
    details = history.details() if len(checked) < len(chosen) else {}
    views = [_view(by_name.get(name), name, checked.get(name), run, details.get(name), (rules or {}).get(name, ()),
                   history_of[name], now.date(), (updates or {}).get(name)) for name in chosen]
    return Page(generated_at=now.isoformat(timespec="seconds"),
                environments=tuple(sorted(views, key=lambda view: (view.cloud, view.account, view.name))),
                run=(run.started_at, run.finished_at) if run else None,
                unreadable=tuple((name, by_name[name].error or "") for name in chosen
                                 if name in by_name and by_name[name].error))


def _rules(engine: StatusSource, name: str) -> Sequence[IgnoreRule]:
    try:
        return engine.project.environment(name).drift.ignore
    except InvalidInputError:
        return ()


def _view(status: EnvironmentStatus | None, name: str, checked: EnvironmentDrift | None, run: DriftReport | None,
          details: tuple[str | None, EnvironmentDrift] | None, rules: Sequence[IgnoreRule], timeline: Timeline,
          today: date, last_run: UpdateRecord | None) -> EnvironmentView:
    update = (status.last_update if status else None) or {}
    latest = (status.last_drift if status else None) or {}
    state: str
    if checked is not None:
        state, error, checked_at = checked.status, checked.error, run.finished_at if run else None
        drifted, ignored, drift = len(checked.resources), checked.ignored, _from_run(checked, checked_at)
    else:
        state, error, checked_at = _state(status, latest), latest.get("error"), latest.get("checked_at")
        drifted, ignored = int(latest.get("drifted") or 0), int(latest.get("ignored") or 0)
        drift = (_from_details(details, latest) or _from_history(latest)) if state == "drifted" else None
        if status is not None and status.error:
            error = status.error
    return EnvironmentView(
        name=name, cloud=status.cloud if status else "-", account=status.account if status else "-",
        region=status.region if status else "-", state=state, error=md.plain_text(error) if error else None,
        last_update=update.get("time"), last_run=last_run, resources=update.get("resources"), checked_at=checked_at,
        drifted=drifted, ignored=ignored, drift=drift,
        ignore_rules=tuple(IgnoredView(rule.resource, rule.property, rule.reason,
                                       rule.until.isoformat() if rule.until else None,
                                       bool(rule.until and rule.until < today)) for rule in rules),
        timeline=timeline,
    )


def _state(status: EnvironmentStatus | None, latest: Mapping[str, Any]) -> str:
    """The state ``report`` shows: an invalid file is an error, no stack or an empty one (destroyed) is not deployed,
    else the last check's."""
    if status is not None and status.error:
        return "error"
    if status is not None and not (status.last_update or {}).get("resources"):
        return "not_deployed"
    found = latest.get("status")
    return found if found in STATES else "unchecked"


def _from_run(env: EnvironmentDrift, checked_at: str | None) -> DriftDetails | None:
    if env.status != "drifted":
        return None
    rows: list[DriftRow] = []
    for resource in env.resources:
        if resource.change == "delete" or not resource.properties or resource.reason:
            rows.append(_row(resource.urn, resource.type, "", resource.reason or resource.change, "", ""))
        for prop in resource.properties:
            rows.append(_row(resource.urn, resource.type, prop.path, prop.kind,
                             "(absent)" if prop.kind == "add" else _value(prop.expected),
                             "(absent)" if prop.kind == "delete" else _value(prop.actual)))
    return DriftDetails(values=True, checked_at=checked_at, rows=tuple(rows))


def _from_details(details: tuple[str | None, EnvironmentDrift] | None,
                  latest: Mapping[str, Any]) -> DriftDetails | None:
    """The values of the latest check, from ``details.json``: only if its entry is that check's."""
    if details is None:
        return None
    checked_at, env = details
    if checked_at is None or checked_at != latest.get("checked_at"):
        return None
    return _from_run(env, checked_at)


def _from_history(latest: Mapping[str, Any]) -> DriftDetails | None:
    """Resources and paths from the latest check's fingerprint: ``[status, [[urn, change, [paths]], ...]]``."""
    fingerprint = latest.get("fingerprint")
    if not (isinstance(fingerprint, list) and len(fingerprint) == 2 and isinstance(fingerprint[1], list)):
        return None
    rows: list[DriftRow] = []
    for item in fingerprint[1]:
        try:
            urn, change, paths = str(item[0]), str(item[1]), [str(path) for path in item[2]]
        except (IndexError, TypeError):
            continue
        kind = "delete" if change == "delete" else ""
        if change == "delete" or not paths:
            rows.append(_row(urn, _type(urn), "", change, None, None))
        rows.extend(_row(urn, _type(urn), path, kind, None, None) for path in paths)
    return DriftDetails(values=False, checked_at=latest.get("checked_at"), rows=tuple(rows))


def _row(urn: str, type_: str, path: str, kind: str, expected: str | None, actual: str | None) -> DriftRow:
    return DriftRow(urn=urn, type=type_, resource=ResourceDrift(urn, type_, "update").name, path=path, kind=kind,
                    expected=expected, actual=actual)


def _type(urn: str) -> str:
    """The resource's type token, from its URN: ``urn:pulumi:STACK::PROJECT::[PARENT$]TYPE::NAME``."""
    parts = urn.split("::")
    return parts[-2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def _value(value: Any) -> str:
    value = _masked(value)
    if value == MASK:
        return MASK  # a mask, not a string the cloud holds: shown bare
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _masked(value: Any) -> Any:
    """Reports mask secrets already; a value still in Pulumi's secret wire form is masked here all the same."""
    if isinstance(value, Mapping):
        if value.get(SIG_KEY) == SECRET_SIG:
            return MASK
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value
