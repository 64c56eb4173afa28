"""The report as the auditors read it: a Markdown document, and a one-line summary per environment."""

from __future__ import annotations

from collections.abc import Sequence

from terrane.engine import markdown as md
from terrane.engine.audit._model import KINDS, OFFLINE_NOTE, SEVERITIES, AuditReport, EnvironmentAudit

# --- Markdown, for the auditors -------------------------------------------------------------------------------------


def markdown(report: AuditReport) -> str:
    """The report as a Markdown document: per environment, its elevated identities and resources, then findings."""
    lines = ["# terrane audit: elevated privileges and weakened defaults", "", OFFLINE_NOTE,
             "No secret value appears here: secrets show as `[secret]`.", ""]
    if not report.environments:
        return "\n".join([*lines, "No environments.", ""])
    lines += ["| Environment | Cloud | Account | Region | Protected | Elevated | High | Medium | Low |",
              "|---|---|---|---|---|---:|---:|---:|---:|"]
    for env in report.environments:
        severities = [str(sum(f.severity == severity for f in env.findings)) for severity in reversed(SEVERITIES)]
        lines.append(md.row(md.text(env.environment), env.cloud, md.text(env.account), md.text(env.region or "-"),
                          "yes" if env.protect else "no", str(len(env.elevated)), *severities))
    lines += ["", "Kinds: " + "; ".join(f"{kind}: {md.text(words)}" for kind, words in KINDS.items()) + ".", ""]
    for env in report.environments:
        origin = f"from {md.code(env.file)}{' (protect: true)' if env.protect else ''}"
        lines += [f"## {md.text(env.environment)}", "",
                  f"{env.cloud}, account {md.code(env.account)}, region {md.code(env.region or '-')}, {origin}.", "",
                  "### Elevated identities and resources", "",
                  "| Kind | Identity or resource | Grants | Why terrane needs it | Limits |", "|---|---|---|---|---|"]
        for item in env.elevated:
            lines.append(md.row(item.kind, f"{md.code(item.name)}<br>{md.code(item.type)}", _lines(item.grants),
                              md.text(item.why), _lines(item.limits)))
        lines += ["", "### Findings", ""]
        if not env.findings:
            lines += ["None: the spec keeps every secure default the audit checks.", ""]
            continue
        lines += ["| Severity | Spec field | Finding | Evidence in the plan | Fix |", "|---|---|---|---|---|"]
        for finding in env.findings:
            lines.append(md.row(finding.severity, md.code(finding.field), md.text(finding.message),
                              _lines(finding.evidence), md.text(finding.fix)))
        lines.append("")
    return "\n".join(lines)


def summary(env: EnvironmentAudit) -> str:
    """One line: how many elevated items and findings an environment has."""
    number = len(env.elevated)
    elevated = f"{number} elevated {'identity or resource' if number == 1 else 'identities and resources'}"
    if not env.findings:
        return f"{elevated}, no findings"
    by_severity = ", ".join(f"{sum(f.severity == s for f in env.findings)} {s}" for s in reversed(SEVERITIES))
    return f"{elevated}, {md.count(len(env.findings), 'finding')} ({by_severity})"


def _lines(values: Sequence[str]) -> str:
    return "<br>".join(md.text(value) for value in values) if values else "none"

