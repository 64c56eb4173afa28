"""What ``terrane report --html`` writes and costs for 100 environments with a year of hourly drift runs.

This builds, in a temporary directory, the drift history such a year leaves
(``--envs`` environments over three clouds and six accounts, one run an hour
for ``--days`` days) and the status rows ``terrane status`` would read, then
renders the page from that data as ``report --html`` does (no CLI, no Pulumi):

- ``typical``: each environment drifts now and then (a few episodes a month,
  hours to days long) and sometimes cannot be checked;
- ``adversarial``: every environment's worst state changes every day, the most
  marks a timeline can ask for (the page then groups days into longer periods).

For each it prints the page's size against the target (under 1 MB), the time
to build (reading the history) and render it, and the same for one
environment with the same history as the baseline (ratios: 100 environments
over one). It asserts nothing.

    python benchmarks/report_bench.py [--envs 100] [--days 365] [--scenario typical|adversarial|both]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from terrane.engine.api import EnvironmentStatus
from terrane.engine.drift.history import DriftHistory
from terrane.engine.report import assemble_page, render_html
from terrane.engine.store.objects import LocalStore
from terrane.stacks.spec.environments import IgnoreRule

TARGET_BYTES = 1_000_000
CLOUDS = (("aws", "aws-sandbox", "us-east-1"), ("aws", "aws-prod", "eu-west-1"), ("azure", "azure-sandbox", "westeurope"),
          ("azure", "azure-prod", "northeurope"), ("gcp", "gcp-sandbox", "europe-west1"), ("gcp", "gcp-prod", "us-central1"))
RULES = [IgnoreRule(resource="aws:eks/nodeGroup:NodeGroup", property="scalingConfig.desiredSize",
                    reason="managed by the cluster autoscaler", until=None),
         IgnoreRule(resource="*::*-vpc", property="tags.cost-center", reason="set by the finance team's tagger",
                    until=datetime(2027, 1, 1).date())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--scenario", choices=("typical", "adversarial", "both"), default="both")
    args = parser.parse_args()
    scenarios = ("typical", "adversarial") if args.scenario == "both" else (args.scenario,)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as scratch:
        for scenario in scenarios:
            root = Path(scratch) / scenario
            history = DriftHistory(LocalStore(root))
            began = time.monotonic()
            latest = _write_history(history, args.envs, args.days, now, scenario)
            size = sum(path.stat().st_size for path in root.rglob("*.json"))
            print(f"\n{scenario}: a history of {args.days * 24} hourly runs over {args.envs} environments, "
                  f"{size / 2**20:.0f} MiB (written in {time.monotonic() - began:.0f} s)")
            statuses = [_status(index, latest[_name(index)], now) for index in range(args.envs)]
            empty = DriftHistory(LocalStore(Path(scratch) / "none"))
            render_html(assemble_page([], history=empty, now=now))  # compiles the template
            one = _measure(statuses[:1], history, now)
            every = _measure(statuses, history, now)
            print(f"  {'':<18}{'bytes':>11}  {'build ms':>9}  {'render ms':>9}")
            print(f"  {'1 environment':<18}{one[0]:>11,}  {one[1]:>9.0f}  {one[2]:>9.1f}")
            print(f"  {f'{args.envs} environments':<18}{every[0]:>11,}  {every[1]:>9.0f}  {every[2]:>9.1f}")
            print(f"  ratio {args.envs} / 1:      size {every[0] / one[0]:.1f}x, build {every[1] / one[1]:.2f}x, "
                  f"render {every[2] / one[2]:.1f}x")
            verdict = "met" if every[0] < TARGET_BYTES else "NOT met"
            print(f"  target: page < {TARGET_BYTES:,} bytes: {every[0]:,} bytes ({every[0] / TARGET_BYTES:.0%}), {verdict}")


def _measure(statuses: list[EnvironmentStatus], history: DriftHistory, now: datetime) -> tuple[int, float, float]:
    """The page's size in bytes, and the time to build it (the history read) and to render it, in ms."""
    rules = {row.environment: RULES for row in statuses}
    page, built = _timed(lambda: assemble_page(statuses, history=history, rules=rules, now=now))
    html, rendered = _timed(lambda: render_html(page))
    return len(html.encode()), built * 1000, rendered * 1000


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = call()
    return result, time.perf_counter() - began


def _name(index: int) -> str:
    cloud, _, _ = CLOUDS[index % len(CLOUDS)]
    return f"{cloud}-env{index:03d}"


def _status(index: int, latest: dict[str, Any], now: datetime) -> EnvironmentStatus:
    cloud, account, region = CLOUDS[index % len(CLOUDS)]
    return EnvironmentStatus(environment=_name(index), cloud=cloud, account=account, region=region,
                             last_update={"time": (now - timedelta(days=index % 30)).isoformat(),
                                          "resources": 40 + index % 50},
                             error=None, last_drift=latest)


def _write_history(history: DriftHistory, envs: int, days: int, now: datetime,
                   scenario: str) -> dict[str, dict[str, Any]]:
    """Write the year's runs as the history keeps past days (an object a day); return each environment's latest
    entry (what ``status`` reads)."""
    start = now - timedelta(days=days)
    states = _typical(envs, days * 24) if scenario == "typical" else _adversarial(envs, days * 24)
    latest: dict[str, dict[str, Any]] = {}
    by_day: dict[str, list[dict[str, Any]]] = {}
    for hour, row in enumerate(states):
        at = (start + timedelta(hours=hour)).isoformat(timespec="seconds")
        entries = [_entry(_name(index), state) for index, state in enumerate(row)]
        by_day.setdefault(at[:10], []).append({"started_at": at, "finished_at": at, "environments": entries})
        for entry in entries:
            latest[entry["environment"]] = {**entry, "checked_at": at}
    for day, runs in by_day.items():
        history.store.create(f"drift/days/{day}.json", json.dumps({"keys": [], "runs": runs}).encode())
    return latest


def _entry(name: str, state: str) -> dict[str, Any]:
    resources = [[f"urn:pulumi:{name}::terrane::terrane:aws:Network$aws:ec2/vpc:Vpc::{name}-vpc", "update",
                  ["tags.owner", "enableDnsHostnames"]],
                 [f"urn:pulumi:{name}::terrane::terrane:aws:Network$aws:ec2/subnet:Subnet::{name}-private-0", "delete",
                  []]] if state == "drifted" else []
    return {"environment": name, "status": state, "error": "AccessDenied: the role cannot be assumed"
            if state == "error" else None, "drifted": len(resources), "ignored": 1,
            "fingerprint": ["error"] if state == "error" else [state, resources]}


def _typical(envs: int, hours: int) -> Iterator[list[str]]:
    """A few drift episodes a month per environment, hours to days long; now and then a check that fails."""
    rng = random.Random(15)
    current = ["in_sync"] * envs
    for _ in range(hours):
        for index, state in enumerate(current):
            roll = rng.random()
            if state == "in_sync":
                current[index] = "drifted" if roll < 0.004 else "error" if roll < 0.0045 else "in_sync"
            elif state == "drifted":
                current[index] = "in_sync" if roll < 0.03 else "drifted"
            else:
                current[index] = "in_sync" if roll < 0.5 else "error"
        yield list(current)


def _adversarial(envs: int, hours: int) -> Iterator[list[str]]:
    """Every day a different worst state for every environment: in sync, drifted, could not be checked."""
    cycle = ("in_sync", "drifted", "error")
    for hour in range(hours):
        day = hour // 24
        yield [cycle[(day + index) % 3] for index in range(envs)]


if __name__ == "__main__":
    main()
