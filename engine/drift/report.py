"""A drift run's typed result, and its renderings for CI: a Markdown step summary and JUnit XML.

Property values appear only here (secrets are already ``[secret]`` in the
report); history and notifications carry names and paths only. Nothing here
prints or decides where files go: the CLI does.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from terrane.engine import markdown as md
from terrane.engine.errors import ExitCode

SCHEMA_VERSION = 1
Status = Literal["in_sync", "drifted", "error", "not_deployed"]
"""not_deployed: the environment has no stack; nothing was checked, and it does not affect the exit code."""


@dataclass(frozen=True)
class PropertyDrift:
    path: str
    kind: Literal["update", "add", "delete"]
    expected: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True)
class ResourceDrift:
    urn: str
    type: str
    change: Literal["update", "delete"]
    properties: tuple[PropertyDrift, ...] = ()
    reason: str | None = None
    """Why the properties cannot say all that changed (the provider gave no diff, only secrets differ)."""
    unapplied: tuple[str, ...] = ()
    """Paths changed outside what terrane applies to this (Kubernetes) object, which only a replacement puts back."""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"urn": self.urn, "type": self.type, "change": self.change,
                                "properties": [prop.to_dict() for prop in self.properties]}
        if self.reason is not None:
            data["reason"] = self.reason
        if self.unapplied:
            data["unapplied"] = list(self.unapplied)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceDrift:
        return cls(data["urn"], data["type"], data["change"],
                   tuple(PropertyDrift(**prop) for prop in data.get("properties", ())), data.get("reason"),
                   tuple(data.get("unapplied", ())))


@dataclass(frozen=True)
class EnvironmentDrift:
    environment: str
    status: Status
    error: str | None = None
    resources: tuple[ResourceDrift, ...] = ()
    ignored: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "status": self.status, "error": self.error,
                "resources": [resource.to_dict() for resource in self.resources], "ignored": self.ignored}

    @property
    def fingerprint(self) -> list[Any]:
        """What a notification compares between runs: the status and which properties drifted."""
        if self.status == "error":
            return ["error"]
        return [self.status, sorted([r.urn, r.change, sorted(p.path for p in r.properties)] for r in self.resources)]


@dataclass(frozen=True)
class DriftReport:
    started_at: str
    finished_at: str
    environments: tuple[EnvironmentDrift, ...] = field(default_factory=tuple)
    notification_error: str | None = None
    """Why the notification of this run could not be delivered; None if it was, or none was asked."""

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "started_at": self.started_at, "finished_at": self.finished_at,
                "environments": [env.to_dict() for env in self.environments]}

    @property
    def exit_code(self) -> ExitCode:
        """What the check found: FAILURE if an environment could not be checked, else CHANGES on drift, else OK."""
        statuses = {env.status for env in self.environments}
        return ExitCode.FAILURE if "error" in statuses else ExitCode.CHANGES if "drifted" in statuses else ExitCode.OK


# A report cell has to stay readable; a policy document drifting is still one row.
_MAX_VALUE_CHARS = 200


# --- Markdown (CI step summary) ----------------------------------------------------------------


def markdown(report: DriftReport) -> str:
    """A GitHub-flavoured Markdown summary: verdict, one row per environment, one table per drift."""
    envs = report.environments
    lines = ["## terrane drift", "", f"**{_verdict(report)}**", "",
             f"Checked from {md.text(report.started_at)} to {md.text(report.finished_at)}.", ""]
    if envs:
        lines += ["| Environment | Status | Drifted resources | Ignored changes | Error |",
                  "|---|---|---:|---:|---|"]
        for env in envs:
            lines.append(md.row(md.text(env.environment), _STATUS_WORDS[env.status],
                              str(len(env.resources)) if env.status in ("in_sync", "drifted") else "",
                              str(env.ignored), md.text(env.error or "")))
        lines.append("")
    for env in envs:
        if env.status != "drifted":
            continue
        lines += [f"### {md.text(env.environment)}", "",
                  "| Resource | Property | Kind | Expected | Actual |", "|---|---|---|---|---|"]
        for resource in env.resources:
            name = f"{md.code(resource.name)} {md.code(resource.type)}"
            if resource.change == "delete" or not resource.properties or resource.reason:
                what = "resource deleted" if resource.change == "delete" else resource.reason or resource.change
                lines.append(md.row(name, "(whole resource)", md.text(what), "", ""))
            for prop in resource.properties:
                expected = "" if prop.kind == "add" else md.code(_json(prop.expected))
                actual = "" if prop.kind == "delete" else md.code(_json(prop.actual))
                lines.append(md.row(name, md.code(prop.path), prop.kind, expected, actual))
        lines.append("")
    return "\n".join(lines)


_STATUS_WORDS = {"in_sync": "in sync", "drifted": "drifted", "error": "could not be checked",
                 "not_deployed": "not deployed"}


def _verdict(report: DriftReport) -> str:
    total = len(report.environments)
    if not total:
        return "No environments were checked."
    drifted = sum(env.status == "drifted" for env in report.environments)
    failed = sum(env.status == "error" for env in report.environments)
    absent = sum(env.status == "not_deployed" for env in report.environments)
    if not drifted and not failed and not absent:
        return f"All {md.count(total, 'environment')} in sync."
    parts = []
    if absent:
        parts.append(f"{absent} of {md.count(total, 'environment')} not deployed")
    if drifted:
        parts.append(f"{drifted} of {md.count(total, 'environment')} drifted")
    if failed:
        parts.append(f"{failed} of {md.count(total, 'environment')} could not be checked")
    return "; ".join(parts) + "."


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


# --- JUnit XML ----------------------------------------------------------------------------------


def junit(report: DriftReport) -> str:
    """JUnit XML: one test case per environment; drift is a failure, a check that failed an error."""
    envs = report.environments
    failures = sum(env.status == "drifted" for env in envs)
    errors = sum(env.status == "error" for env in envs)
    skipped = sum(env.status == "not_deployed" for env in envs)
    suite = ET.Element("testsuite", {
        "name": "terrane drift", "tests": str(len(envs)), "failures": str(failures), "errors": str(errors),
        "skipped": str(skipped), "timestamp": _xml(report.started_at),
        "time": _seconds(report.started_at, report.finished_at),
    })
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "ignored", "value": str(sum(env.ignored for env in envs))})
    for env in envs:
        # The report has no per-environment timing; the suite carries the run's duration.
        case = ET.SubElement(suite, "testcase", {"classname": "terrane.drift", "name": _xml(env.environment),
                                                 "time": "0"})
        case_properties = ET.SubElement(case, "properties")
        ET.SubElement(case_properties, "property", {"name": "ignored", "value": str(env.ignored)})
        if env.status == "not_deployed":
            ET.SubElement(case, "skipped", {"message": "not deployed: no stack to check"})
        elif env.status == "drifted":
            failure = ET.SubElement(case, "failure", {
                "message": f"{md.count(len(env.resources), 'resource')} drifted", "type": "drift"})
            failure.text = _xml("\n".join(_failure_lines(env.resources)))
        elif env.status == "error":
            error_text = md.plain_text(env.error or "") or "could not be checked"
            error = ET.SubElement(case, "error", {"message": _xml(error_text.splitlines()[0] if error_text.strip()
                                                                  else error_text), "type": "error"})
            error.text = _xml(error_text)
        if env.ignored:
            out = ET.SubElement(case, "system-out")
            out.text = f"{md.count(env.ignored, 'change')} ignored by drift.ignore rules"
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _failure_lines(resources: Sequence[ResourceDrift]) -> list[str]:
    lines = []
    for resource in resources:
        head = f"{resource.type} {resource.name}"
        if resource.change == "delete" or not resource.properties or resource.reason:
            lines.append(f"{head}: {'deleted' if resource.change == 'delete' else resource.reason or resource.change}")
        for prop in resource.properties:
            expected = "(absent)" if prop.kind == "add" else _json(prop.expected)
            actual = "(absent)" if prop.kind == "delete" else _json(prop.actual)
            lines.append(f"{head}: {prop.path} ({prop.kind}): expected {expected}, actual {actual}")
    return lines


# ElementTree escapes markup but not characters XML 1.0 forbids (ANSI colour codes in an engine error).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml(text: str) -> str:
    return _XML_INVALID.sub(lambda match: f"\\x{ord(match[0]):02x}", text)


def _seconds(started: str, finished: str) -> str:
    try:
        elapsed = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    except (TypeError, ValueError):
        return "0"
    return f"{max(elapsed, 0):.3f}"
