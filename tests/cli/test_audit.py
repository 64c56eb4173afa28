"""``terrane audit``: the sample project's elevated identities, as a user, a script and an auditor read them."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from terrane.components.aws_iam import NODE_POLICIES, NODE_REGISTRY_POLICY
from terrane.engine.audit import SEVERITIES
from terrane.engine.cli import main
from terrane.engine.cli.audit import SEVERITY_CHOICES
from tests.helpers.project import (
    REPO,
    SENTINEL,
    SENTINEL_AZURE_SECRET,
    SENTINEL_GCP_KEY,
    SENTINELS,
    Result,
    SampleProject,
)

ENVIRONMENTS = ("aws-dev", "azure-dev", "gcp-dev")


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, str]:
    """``terrane audit --all --markdown audit.md`` on the sample project: the run and the Markdown it wrote."""
    out = tmp_path_factory.mktemp("audit") / "audit.md"
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = main(["--project", str(REPO), "audit", "--all", "--markdown", str(out)])
    return Result(code, stdout.getvalue(), stderr.getvalue()), out.read_text()


def _elevated_rows(markdown: str, environment: str) -> dict[tuple[str, str], list[str]]:
    """The environment's table of elevated items: (kind, name) -> [grants, why, limits] as the cells read."""
    section = markdown.split(f"\n## {environment}\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("### Elevated identities and resources", 1)[1].split("### Findings", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = _cells(line)
        if len(cells) == 5 and cells[1].startswith("`"):
            name = cells[1].split("<br>", 1)[0].strip("`")
            rows[(cells[0], name)] = cells[2:]
    return rows


def _findings_rows(markdown: str, environment: str) -> list[list[str]]:
    section = markdown.split(f"\n## {environment}\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("### Findings", 1)[1]
    return [_cells(line) for line in table.splitlines() if line.startswith("| ") and not line.startswith("| Severity")]


def _cells(row: str) -> list[str]:
    """A Markdown table row's cells, as a reader sees them: backslash escapes undone."""
    return [re.sub(r"\\(.)", r"\1", cell.strip()) for cell in re.split(r"(?<!\\)\|", row)[1:-1]]


def _edited(sample: SampleProject, name: str, edit: Callable[[dict[str, Any]], None]) -> SampleProject:
    sample.edit_env(name, edit)
    return sample


# --- the sample project ------------------------------------------------------------------------------------------


def test_all_with_markdown_documents_every_cloud(audited: tuple[Result, str]) -> None:
    result, markdown = audited
    assert result.code == 0, result.stderr
    assert "nothing was read from a cloud" in result.stderr
    assert re.findall(r"^## (\S+)$", markdown, re.MULTILINE) == list(ENVIRONMENTS)
    assert re.findall(r"^(\S+) \(\w+, account \S+, region \S+\): ", result.stdout, re.MULTILINE) == list(ENVIRONMENTS)


def test_markdown_documents_the_aws_identities(audited: tuple[Result, str]) -> None:
    rows = _elevated_rows(audited[1], "aws-dev")
    provisioner = "arn:aws:iam::123456789012:role/terrane-provisioner"
    assert "IamTerraneRoles: 12 iam actions on arn:aws:iam::123456789012:role/terrane/*" in (
        rows[("provisioner", provisioner)][0])
    assert rows[("cluster-admin", provisioner)][0] == "AmazonEKSClusterAdminPolicy on EKS cluster aws-dev"
    node_grants = rows[("node", "aws-dev-node")][0].split("<br>")
    managed = [f"{policy} (AWS managed)" for policy in NODE_POLICIES if policy != NODE_REGISTRY_POLICY]
    assert sorted(grant for grant in node_grants if "AWS managed" in grant) == sorted(managed)
    assert ("PullLinkedRepositories: ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, ecr:BatchCheckLayerAvailability on "
            "arn:aws:ecr:us-east-1:123456789012:repository/platform/web, "
            "arn:aws:ecr:us-east-1:123456789012:repository/platform/worker") in node_grants
    assert "permissions boundary arn:aws:iam::123456789012:policy/terrane/terrane-boundary: it can never do more" in (
        rows[("node", "aws-dev-node")][2].split("<br>"))
    reader_grants, _, reader_limits = rows[("workload", "aws-dev-reader")]
    assert reader_grants.startswith("secretsmanager:GetSecretValue, secretsmanager:DescribeSecret on ")
    assert "system:serviceaccount:apps:secrets-reader" in reader_limits
    assert {name for kind, name in rows if kind == "key"} == {"aws-dev-key", "aws-dev-secrets", "aws-dev-flow-logs"}


def test_markdown_documents_the_azure_identities(audited: tuple[Result, str]) -> None:
    rows = _elevated_rows(audited[1], "azure-dev")
    assert rows[("node", "kubelet identity of AKS cluster azure-dev")][0] == "AcrPull on registries/sandboximages"
    (reader,) = [name for kind, name in rows if kind == "workload"]
    assert re.fullmatch(r"kv-azure-dev-\w+-reader", reader)
    assert rows[("workload", reader)][0] == f"Key Vault Secrets User on vaults/{reader.removesuffix('-reader')}"
    assert rows[("cluster-admin", "service principal 33333333-3333-3333-3333-333333333333")][0] == (
        "Azure Kubernetes Service RBAC Cluster Admin on managedClusters/azure-dev")


def test_markdown_documents_the_gcp_identities(audited: tuple[Result, str]) -> None:
    rows = _elevated_rows(audited[1], "gcp-dev")
    nodes = rows[("node", "gcp-dev-nodes@sandbox-project-123.iam.gserviceaccount.com")]
    assert "roles/artifactregistry.reader on repository sandbox-project-123/europe-west1/platform only" in (
        nodes[0].split("<br>"))
    readers = sorted(name for kind, name in rows if kind == "workload")
    assert [name.rsplit("/subject/", 1)[1] for name in readers] == [
        "ns/apps/sa/secrets-reader", "ns/observability/sa/secrets-reader"]
    assert rows[("workload", readers[0])][0] == (
        "roles/secretmanager.secretAccessor on secret gcp-dev-api-token<br>"
        "roles/secretmanager.secretAccessor on secret gcp-dev-db-password")


def test_markdown_lists_the_findings(audited: tuple[Result, str]) -> None:
    markdown = audited[1]
    (row,) = _findings_rows(markdown, "aws-dev")
    assert row[:2] == ["low", "`secrets.recovery_days`"]
    assert "recoveryWindowInDays: 7" in row[3]
    assert "None: the spec keeps every secure default the audit checks." in markdown.split("\n## gcp-dev\n", 1)[1]


def test_the_docs_excerpt_is_what_audit_writes(audited: tuple[Result, str]) -> None:
    page = (REPO / "docs" / "audit.md").read_text()
    excerpt = page.split("```markdown\n", 1)[1].split("```", 1)[0]
    assert [line for line in excerpt.splitlines() if line not in audited[1].splitlines()] == []


def test_json_is_the_schema_version_1_document(cli) -> None:
    result = cli("--project", REPO, "audit", "aws-dev", "gcp-dev", "--json")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["schema_version", "environments"]
    assert document["schema_version"] == 1
    assert [env["environment"] for env in document["environments"]] == ["aws-dev", "gcp-dev"]
    for env in document["environments"]:
        assert list(env) == ["environment", "cloud", "account", "region", "protect", "elevated", "findings"]
        for item in env["elevated"]:
            assert list(item) == ["kind", "name", "type", "grants", "why", "limits"]
        for finding in env["findings"]:
            assert list(finding) == ["severity", "rule", "field", "message", "fix", "evidence"]
    (aws_finding,) = document["environments"][0]["findings"]
    assert (aws_finding["severity"], aws_finding["rule"]) == ("low", "short-recovery-window")


def test_fail_on_low_turns_the_samples_low_finding_into_exit_2(cli) -> None:
    result = cli("--project", REPO, "audit", "aws-dev", "--fail-on", "low")
    assert result.code == 2
    assert "1 finding at or above low (--fail-on low)" in result.stderr
    assert "    LOW secrets.recovery_days: a deleted secret can be recovered for less than 30 days" in result.stdout


# --- weakened defaults ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_a_public_endpoint_open_to_all_exits_2(sample: SampleProject, cli, name: str) -> None:
    _edited(sample, name, lambda d: d["cluster"].update(endpoint="public", authorized_cidrs=["0.0.0.0/0"]))
    result = cli("--project", sample.root, "audit", name)
    assert result.code == 2, result.stderr
    assert "    HIGH cluster.authorized_cidrs: the public API server accepts connections from any address" in (
        result.stdout)
    assert "1 finding at or above high (--fail-on high)" in result.stderr
    document = json.loads(cli("--project", sample.root, "audit", name, "--json").stdout)
    severities = {f["rule"]: f["severity"] for f in document["environments"][0]["findings"]}
    assert (severities["endpoint-open-to-all"], severities["public-endpoint"]) == ("high", "medium")


def test_fail_on_decides_whether_a_medium_finding_fails(sample: SampleProject, cli) -> None:
    _edited(sample, "aws-dev", lambda d: d["cluster"].update(endpoint="public", authorized_cidrs=["203.0.113.0/24"]))
    assert cli("--project", sample.root, "audit", "aws-dev").code == 0
    assert cli("--project", sample.root, "audit", "aws-dev", "--fail-on", "high").code == 0
    result = cli("--project", sample.root, "audit", "aws-dev", "--fail-on", "medium", "--json")
    assert result.code == 2
    (public,) = [f for f in json.loads(result.stdout)["environments"][0]["findings"] if f["severity"] == "medium"]
    assert public["evidence"] == ["aws-dev-eks (aws:eks/cluster:Cluster): vpcConfig.endpointPublicAccess: true"]


def test_markdown_is_written_even_when_the_audit_fails(sample: SampleProject, cli, tmp_path: Path) -> None:
    def protected_without_flow_logs(data: dict[str, Any]) -> None:
        data["protect"] = True
        data["network"]["flow_logs"] = False

    _edited(sample, "gcp-dev", protected_without_flow_logs)
    out = tmp_path / "reports" / "audit.md"
    result = cli("--project", sample.root, "audit", "gcp-dev", "--fail-on", "medium", "--markdown", out)
    assert result.code == 2
    (row,) = _findings_rows(out.read_text(), "gcp-dev")
    assert row[:2] == ["medium", "`network.flow_logs`"]
    assert [path.name for path in out.parent.iterdir()] == ["audit.md"]


# --- bad input ----------------------------------------------------------------------------------------------------


def test_an_invalid_environment_is_one_line_naming_its_file(sample: SampleProject, cli, tmp_path: Path) -> None:
    _edited(sample, "gcp-dev", lambda d: d["network"].update(zones=5))
    out = tmp_path / "audit.md"
    for args in (["gcp-dev"], ["--all", "--json"], ["--markdown", out]):
        result = cli("--project", sample.root, "audit", *args)
        assert (result.code, result.stdout) == (3, ""), args
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: environments/gcp-dev.yaml: network.zones: "), args
    assert not out.exists()


def test_fail_on_offers_the_engines_severities() -> None:
    assert SEVERITY_CHOICES == SEVERITIES


@pytest.mark.parametrize(("args", "message"), [
    (["nope"], "nope"),
    (["aws-dev", "--all"], "name environments or use --all, not both"),
    (["--fail-on", "critical"], "'critical' is not one of 'low', 'medium', 'high'"),
])
def test_bad_input_exits_3(cli, args: list[str], message: str) -> None:
    result = cli("--project", REPO, "audit", *args)
    assert (result.code, result.stdout) == (3, "")
    assert message in result.stderr.splitlines()[0]


def test_no_environments(sample: SampleProject, cli, tmp_path: Path) -> None:
    for path in (sample.root / "environments").glob("*.yaml"):
        path.unlink()
    out = tmp_path / "audit.md"
    result = cli("--project", sample.root, "audit", "--markdown", out)
    assert (result.code, result.stdout) == (0, "")
    assert "no environments" in result.stderr
    assert out.read_text().endswith("No environments.\n")
    assert json.loads(cli("--project", sample.root, "audit", "--json").stdout) == {"schema_version": 1,
                                                                                  "environments": []}


# --- secrets ------------------------------------------------------------------------------------------------------


def test_no_secret_value_reaches_any_output(sample: SampleProject, cli, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = sample.load_accounts()
    accounts["accounts"]["aws-sandbox"]["auth"]["assume_role"]["external_id"] = SENTINEL
    sample.write_accounts(accounts)
    home = tmp_path / "home"
    (home / ".config" / "terrane").mkdir(parents=True)
    (home / ".config" / "terrane" / "gcp-sa.json").write_text(SENTINEL_GCP_KEY)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TERRANE_AWS_EXTERNAL_ID", SENTINEL)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SENTINEL_AZURE_SECRET)
    out = tmp_path / "audit.md"
    human = cli("--project", sample.root, "audit", "--all", "--fail-on", "low", "--markdown", out)
    machine = cli("--project", sample.root, "audit", "--all", "--json")
    assert (human.code, machine.code) == (2, 0)
    written = human.stdout + human.stderr + machine.stdout + machine.stderr + out.read_text()
    assert "assumed only with the account's external id (sts:ExternalId)" in written
    for sentinel in SENTINELS:
        assert sentinel not in written
