"""``terrane audit``: each environment's elevated privileges, and the secure defaults its spec weakens.

Worked out offline from the environment's plan (what ``terrane plan`` renders) and its account in
``accounts.yaml``: nothing is read from or sent to a cloud. Every identity or resource that carries
elevated privileges is listed with what it may do, why terrane needs it and what limits it; every
finding names the spec field that weakened a default, with a severity. The plan's secrets are already
``[secret]`` and no secret reference is resolved here, so no secret value can reach a report.

What the audit knows about each resource type, role and finding is data: the tables of its modules.
``_model`` holds the typed results, ``_audit`` runs ``audit()``, ``_index`` is the plan as every part
looks things up in it, ``_plan`` reads a plan's inputs and puts IAM policy documents in words,
``_provisioner`` describes the identity terrane deploys as, ``_elevated`` every other identity,
resource and grant that carries privileges, from the tables of ``_aws``, ``_azure``, ``_gcp`` and
``_kubernetes`` (and what they share, ``_identity``), ``_findings`` the secure defaults a spec
weakens, and ``_markdown`` renders the report for auditors.
This module is the public API; the others are private.
"""

from terrane.engine.audit._audit import audit
from terrane.engine.audit._findings import ADVISED_RECOVERY_DAYS
from terrane.engine.audit._markdown import markdown, summary
from terrane.engine.audit._model import (
    KINDS,
    OFFLINE_NOTE,
    SCHEMA_VERSION,
    SEVERITIES,
    AuditReport,
    ElevatedItem,
    EnvironmentAudit,
    Finding,
    Kind,
    Severity,
)

__all__ = [
    "ADVISED_RECOVERY_DAYS",
    "KINDS",
    "OFFLINE_NOTE",
    "SCHEMA_VERSION",
    "SEVERITIES",
    "AuditReport",
    "ElevatedItem",
    "EnvironmentAudit",
    "Finding",
    "Kind",
    "Severity",
    "audit",
    "markdown",
    "summary",
]
