"""The audit of elevated privileges and weakened defaults, worked out from real offline renders."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from terrane.components.aws_iam import CLUSTER_POLICY, IAM_PATH, NODE_POLICIES, NODE_REGISTRY_POLICY
from terrane.engine.api import Engine
from terrane.engine.audit import (
    KINDS,
    SEVERITIES,
    AuditReport,
    ElevatedItem,
    EnvironmentAudit,
    Finding,
    audit,
    markdown,
)
from terrane.engine.errors import ExitCode
from terrane.engine.offline.render import Plan, RenderedResource, plan
from terrane.engine.project import open_project
from tests.helpers.project import REPO, SampleProject

ENVIRONMENTS = ("aws-dev", "azure-dev", "gcp-dev")


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return Engine(REPO).audit(all=True)


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    project = open_project(REPO)
    return {name: plan(project, name) for name in ENVIRONMENTS}


def _env(report: AuditReport, name: str) -> EnvironmentAudit:
    (found,) = [env for env in report.environments if env.environment == name]
    return found


def _item(env: EnvironmentAudit, kind: str, name: str) -> ElevatedItem:
    (found,) = [item for item in env.elevated if (item.kind, item.name) == (kind, name)]
    return found


def _of_type(found: Plan, type_: str) -> list[RenderedResource]:
    return [resource for resource in found.resources if resource.type == type_]


def _audit_edited(sample: SampleProject, name: str, edit: Callable[[dict[str, Any]], None]) -> EnvironmentAudit:
    sample.edit_env(name, edit)
    (env,) = Engine(sample.root).audit(name).environments
    return env


def _rules(env: EnvironmentAudit) -> dict[str, str]:
    return {finding.rule: finding.severity for finding in env.findings}


# --- what the sample project's environments hold ----------------------------------------------------------------


def test_every_environment_is_audited_in_name_order(report: AuditReport) -> None:
    assert [env.environment for env in report.environments] == list(ENVIRONMENTS)
    assert [(env.cloud, env.account) for env in report.environments] == [
        ("aws", "aws-sandbox"), ("azure", "azure-sandbox"), ("gcp", "gcp-sandbox")]
    for env in report.environments:
        assert [item.kind for item in env.elevated] == sorted((item.kind for item in env.elevated),
                                                              key=list(KINDS).index)
        assert all(item.why for item in env.elevated)


def test_aws_provisioner_is_the_linked_role_with_the_bootstrap_policy(report: AuditReport) -> None:
    role_arn = open_project(REPO).accounts["aws-sandbox"].auth.assume_role.role_arn  # type: ignore[union-attr]
    provisioner = _item(_env(report, "aws-dev"), "provisioner", role_arn)
    assert provisioner.type == "account"
    sids = [grant.split(":", 1)[0] for grant in provisioner.grants]
    assert {"Eks", "IamTerraneRoles", "IamPassTerraneRoles", "SecretsManager"} <= set(sids)
    assert f"IamTerraneRoles: 12 iam actions on arn:aws:iam::123456789012:role{IAM_PATH}*" in provisioner.grants
    assert "cannot read secret values: no secretsmanager:GetSecretValue and no kms:Decrypt" in provisioner.limits
    assert "its provider works only in account 123456789012 (allowedAccountIds)" in provisioner.limits
    assert "assumed only with the account's external id (sts:ExternalId)" in provisioner.limits
    admin = _item(_env(report, "aws-dev"), "cluster-admin", role_arn)
    assert admin.grants == ("AmazonEKSClusterAdminPolicy on EKS cluster aws-dev",)
    assert "access scope cluster: cluster aws-dev only" in admin.limits


def test_aws_roles_carry_their_policies_and_trust(report: AuditReport, plans: dict[str, Plan]) -> None:
    env = _env(report, "aws-dev")
    node = _item(env, "node", "aws-dev-node")
    # The sample's cluster names the registry aws-images: the managed ECR policy (Resource *) gives way to
    # pulls from exactly its repositories and from the region's EKS add-on registry.
    managed = [f"{policy} (AWS managed)" for policy in NODE_POLICIES if policy != NODE_REGISTRY_POLICY]
    assert sorted(node.grants) == sorted([
        *managed,
        "PullToken: ecr:GetAuthorizationToken on *",
        ("PullLinkedRepositories: ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, ecr:BatchCheckLayerAvailability on "
        "arn:aws:ecr:us-east-1:123456789012:repository/platform/web, "
        "arn:aws:ecr:us-east-1:123456789012:repository/platform/worker"),
        ("PullEksAddons: ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, ecr:BatchCheckLayerAvailability on "
        "arn:aws:ecr:us-east-1:602401143452:repository/*"),
    ])
    assert "assumable only by the service ec2.amazonaws.com" in node.limits
    assert f"path {IAM_PATH}" in node.limits
    boundary = "permissions boundary arn:aws:iam::123456789012:policy/terrane/terrane-boundary: it can never do more"
    assert all(boundary in item.limits for item in env.elevated if item.type == "aws:iam/role:Role")
    assert any(limit.startswith("IMDSv2 only, hop limit 1") for limit in node.limits)
    assert _item(env, "control-plane", "aws-dev-cluster").grants == (f"{CLUSTER_POLICY} (AWS managed)",)
    reader = _item(env, "workload", "aws-dev-reader")
    secret_arns = sorted(plans["aws-dev"].outputs["secret_arns"].values())
    (read,) = [grant for grant in reader.grants if grant.startswith("secretsmanager:GetSecretValue")]
    assert sorted(re.findall(r"arn:aws:secretsmanager:\S+?(?=,|$)", read)) == secret_arns
    assert any("system:serviceaccount:apps:secrets-reader" in limit for limit in reader.limits)
    roles = [item for item in env.elevated if item.type == "aws:iam/role:Role"]
    assert len(roles) == len(_of_type(plans["aws-dev"], "aws:iam/role:Role"))


def test_aws_keys_and_service_accounts(report: AuditReport, plans: dict[str, Plan]) -> None:
    env = _env(report, "aws-dev")
    keys = {item.name: item for item in env.elevated if item.kind == "key"}
    assert set(keys) == {key.name for key in _of_type(plans["aws-dev"], "aws:kms/key:Key")}
    assert any(grant.startswith("LogsEncrypt: the service logs.us-east-1.amazonaws.com may ")
               for grant in keys["aws-dev-flow-logs"].grants)
    assert keys["aws-dev-key"].why == "Encrypts the secrets under aws-dev/."
    for namespace in ("apps", "observability"):
        account = _item(env, "kubernetes", f"{namespace}/secrets-reader")
        (grant,) = account.grants
        assert grant.startswith("assumes IAM role arn:aws:iam::123456789012:role/terrane/aws-dev-reader-")
        assert grant.endswith("(aws-dev-reader)")
        assert _item(env, "kubernetes", f"namespace {namespace}").grants[1] == "pod security enforce: restricted"


def test_azure_identities(report: AuditReport, plans: dict[str, Plan]) -> None:
    env = _env(report, "azure-dev")
    kubelet = _item(env, "node", "kubelet identity of AKS cluster azure-dev")
    assert kubelet.type == "azure-native:containerservice:ManagedCluster"
    assert kubelet.grants == ("AcrPull on registries/sandboximages",)
    (vault,) = _of_type(plans["azure-dev"], "azure-native:keyvault:Vault")
    vault_name = vault.inputs["vaultName"]
    reader = _item(env, "workload", f"{vault_name}-reader")
    assert reader.grants == (f"Key Vault Secrets User on vaults/{vault_name}",)
    assert any("system:serviceaccount:apps:secrets-reader, system:serviceaccount:observability:secrets-reader"
               in limit for limit in reader.limits)
    assert _item(env, "control-plane", "azure-dev-identity").grants == ("Network Contributor on subnets/nodes",)
    admin = _item(env, "cluster-admin", "service principal 33333333-3333-3333-3333-333333333333")
    assert admin.grants == ("Azure Kubernetes Service RBAC Cluster Admin on managedClusters/azure-dev",)
    assert "local accounts disabled: every sign-in goes through Entra ID" in admin.limits
    store = _item(env, "key", vault_name)
    assert f"Key Vault Secrets User to {vault_name}-reader" in store.grants
    assert "public network access: Disabled" in store.limits


def test_gcp_identities(report: AuditReport) -> None:
    env = _env(report, "gcp-dev")
    nodes = _item(env, "node", "gcp-dev-nodes@sandbox-project-123.iam.gserviceaccount.com")
    assert not any(grant.startswith("roles/artifactregistry.reader on project") for grant in nodes.grants)
    assert "roles/artifactregistry.reader on repository sandbox-project-123/europe-west1/platform only" in nodes.grants
    assert "roles/logging.logWriter on project sandbox-project-123" in nodes.grants
    assert any(limit.startswith("workload metadata GKE_METADATA") for limit in nodes.limits)
    readers = [item for item in env.elevated if item.kind == "workload"]
    assert sorted(item.name.rsplit("/subject/", 1)[-1] for item in readers) == [
        "ns/apps/sa/secrets-reader", "ns/observability/sa/secrets-reader"]
    for reader in readers:
        assert reader.grants == ("roles/secretmanager.secretAccessor on secret gcp-dev-api-token",
                                 "roles/secretmanager.secretAccessor on secret gcp-dev-db-password")
    keys = [item for item in env.elevated if item.kind == "key"]
    assert sorted(key.name.rsplit("/", 1)[-1] for key in keys) == ["gke-secrets", "secret-manager"]
    assert all(key.grants[0].startswith("roles/cloudkms.cryptoKeyEncrypterDecrypter to serviceAccount:service-")
               for key in keys)
    assert _item(env, "cluster-admin", "the provisioner (through its IAM roles on the project)")


def test_the_sample_keeps_every_default_but_a_short_recovery_window(report: AuditReport) -> None:
    for name in ("aws-dev", "azure-dev"):
        (finding,) = _env(report, name).findings
        assert (finding.rule, finding.severity, finding.field) == ("short-recovery-window", "low",
                                                                   "secrets.recovery_days")
    assert _env(report, "gcp-dev").findings == ()
    assert (report.exit_code("high"), report.exit_code("medium"), report.exit_code("low")) == (
        ExitCode.OK, ExitCode.OK, ExitCode.CHANGES)


# --- findings where a spec weakens a default ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_a_public_endpoint_open_to_all_is_high(sample: SampleProject, name: str) -> None:
    env = _audit_edited(sample, name, lambda d: d["cluster"].update(endpoint="public", authorized_cidrs=["0.0.0.0/0"]))
    assert _rules(env)["endpoint-open-to-all"] == "high"
    assert _rules(env)["public-endpoint"] == "medium"
    (open_,) = [finding for finding in env.findings if finding.rule == "endpoint-open-to-all"]
    assert open_.field == "cluster.authorized_cidrs"
    (evidence,) = open_.evidence
    assert evidence.startswith(f"{name}-") and "0.0.0.0/0" in evidence
    assert env.findings[0] == open_


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_a_public_endpoint_limited_to_a_range_is_medium(sample: SampleProject, name: str) -> None:
    env = _audit_edited(sample, name,
                        lambda d: d["cluster"].update(endpoint="public", authorized_cidrs=["203.0.113.0/24"]))
    assert "endpoint-open-to-all" not in _rules(env)
    assert _rules(env)["public-endpoint"] == "medium"


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_deletion_protection_off_matters_in_a_protected_environment(sample: SampleProject, name: str) -> None:
    env = _audit_edited(sample, name, lambda d: d["cluster"].update(deletion_protection=False))
    assert "deletion-protection-off" not in _rules(env)
    env = _audit_edited(sample, name, lambda d: d.update(protect=True))
    assert _rules(env)["deletion-protection-off"] == "medium"
    assert env.protect


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_flow_logs_off(sample: SampleProject, name: str) -> None:
    env = _audit_edited(sample, name, lambda d: d["network"].update(flow_logs=False))
    assert _rules(env)["flow-logs-off"] == "low"
    env = _audit_edited(sample, name, lambda d: d.update(protect=True))
    (finding,) = [finding for finding in env.findings if finding.rule == "flow-logs-off"]
    assert (finding.severity, finding.field) == ("medium", "network.flow_logs")


@pytest.mark.parametrize("name", ["aws-dev", "azure-dev"])
def test_the_longest_recovery_window_is_no_finding(sample: SampleProject, name: str) -> None:
    env = _audit_edited(sample, name, lambda d: d["secrets"].update(recovery_days=30))
    assert "short-recovery-window" not in _rules(env)

    def shorter_and_protected(data: dict[str, Any]) -> None:
        data["secrets"]["recovery_days"] = 14
        data["protect"] = True

    env = _audit_edited(sample, name, shorter_and_protected)
    assert _rules(env)["short-recovery-window"] == "medium"


def test_gcp_secrets_without_deletion_protection_in_a_protected_environment(sample: SampleProject) -> None:
    env = _audit_edited(sample, "gcp-dev", lambda d: d["secrets"].update(deletion_protection=False))
    assert "secret-deletion-protection-off" not in _rules(env)
    env = _audit_edited(sample, "gcp-dev", lambda d: d.update(protect=True))
    assert _rules(env)["secret-deletion-protection-off"] == "medium"


# --- what the audit makes of resources the sample does not render ----------------------------------------------------


def _resource(type_: str, name: str, inputs: dict[str, Any], depends_on: tuple[str, ...] = ()) -> RenderedResource:
    return RenderedResource(urn=f"urn:pulumi:box::terrane::{type_}::{name}", type=type_, name=name, parent=None,
                            provider=None, custom=True, inputs=inputs, depends_on=depends_on)


def _audit_of(*resources: RenderedResource) -> EnvironmentAudit:
    project = open_project(REPO)
    env = project.environment("aws-dev")
    boxed = Plan(environment="aws-dev", cloud="aws", account="aws-sandbox", region="us-east-1",
                 resources=resources, outputs={})
    return audit(env, project.account_for(env), boxed)


def test_a_cluster_role_binding_and_an_unrestricted_namespace() -> None:
    found = _audit_of(
        _resource("kubernetes:core/v1:Namespace", "box-jobs",
                  {"metadata": {"name": "jobs", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}),
        _resource("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "box-admin", {
            "metadata": {"name": "jobs-admin"}, "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "namespace": "jobs", "name": "runner"}]}),
    )
    binding = _item(found, "kubernetes", "jobs-admin")
    assert binding.grants == ("ClusterRole cluster-admin to ServiceAccount jobs/runner",)
    assert binding.limits == ("every namespace of the cluster",)
    assert _item(found, "kubernetes", "namespace jobs").grants == ("pod security enforce: privileged",)
    (finding,) = found.findings
    assert (finding.rule, finding.severity, finding.field) == ("pod-security-not-restricted", "medium",
                                                               "kubernetes.namespaces")
    assert finding.evidence == (
        "box-jobs (kubernetes:core/v1:Namespace): metadata.labels.pod-security.kubernetes.io/enforce: privileged",)


def test_a_grant_the_audit_has_no_words_for_is_still_listed() -> None:
    role = _resource("aws:iam/role:Role", "box-runner", {"assumeRolePolicy": (
        '{"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, '
        '"Action": "sts:AssumeRole"}]}')})
    attachment = _resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "box-runner-admin",
                           {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, (role.urn,))
    stray = _resource("aws:iam/rolePolicy:RolePolicy", "box-stray", {"policy": (
        '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}')})
    found = _audit_of(role, attachment, stray)
    runner = _item(found, "other", "box-runner")
    assert runner.grants == ("AdministratorAccess (AWS managed)",)
    assert runner.limits == ("assumable only by the service lambda.amazonaws.com",)
    assert _item(found, "other", "box-stray").grants == ("s3:* on *",)


# --- the report -------------------------------------------------------------------------------------------------------


def _finding(severity: str) -> Finding:
    return Finding(severity, "rule", "field", "message", "fix", ("evidence",))  # type: ignore[arg-type]


@pytest.mark.parametrize("severity", SEVERITIES)
def test_exit_code_is_changes_at_or_above_fail_on(severity: str) -> None:
    env = EnvironmentAudit("box", "aws", "acct", "r", False, (), (_finding(severity),))
    report = AuditReport((env,))
    for fail_on in SEVERITIES:
        expected = ExitCode.CHANGES if SEVERITIES.index(severity) >= SEVERITIES.index(fail_on) else ExitCode.OK
        assert report.exit_code(fail_on) == expected
    assert AuditReport().exit_code("low") == ExitCode.OK


def test_markdown_is_one_section_per_environment(report: AuditReport) -> None:
    text = markdown(report)
    assert text.startswith("# terrane audit: elevated privileges and weakened defaults\n")
    assert re.findall(r"^## (\S+)$", text, re.MULTILINE) == list(ENVIRONMENTS)
    for env in report.environments:
        section = text.split(f"## {env.environment}\n", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in section.splitlines() if line.startswith("| ") and "<br>`" in line]
        assert len(rows) == len(env.elevated)
        assert section.count("\n| low |") == sum(finding.severity == "low" for finding in env.findings)


def test_markdown_cells_cannot_break_the_table() -> None:
    item = ElevatedItem("other", "a|b", "t", ("x | y", "<script>"), "why\nnot", ())
    env = EnvironmentAudit("box", "aws", "acct", "r", False, (item,), ())
    (row,) = [line for line in markdown(AuditReport((env,))).splitlines() if line.startswith("| other |")]
    assert row == r"| other | `a\|b`<br>`t` | x \| y<br>&lt;script&gt; | why<br>not | none |"
    assert markdown(AuditReport()).endswith("No environments.\n")


def test_to_dict_is_the_schema_version_1_document(report: AuditReport) -> None:
    document = report.to_dict()
    assert list(document) == ["schema_version", "environments"]
    assert document["schema_version"] == 1
    env = document["environments"][0]
    assert list(env) == ["environment", "cloud", "account", "region", "protect", "elevated", "findings"]
    assert list(env["elevated"][0]) == [field.name for field in dataclasses.fields(ElevatedItem)]
    assert list(env["findings"][0]) == [field.name for field in dataclasses.fields(Finding)]


def test_importing_the_module_loads_no_pulumi_or_cloud_sdk() -> None:
    code = ("import sys, terrane.engine.audit; "
            "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('pulumi', 'boto', 'azure'))}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"


def test_roles_without_a_permissions_boundary_are_a_finding(sample: SampleProject) -> None:
    accounts = sample.load_accounts()
    del accounts["accounts"]["aws-sandbox"]["permissions_boundary"]
    sample.write_accounts(accounts)
    env = _audit_edited(sample, "aws-dev", lambda d: None)
    (finding,) = [finding for finding in env.findings if finding.rule == "no-permissions-boundary"]
    assert finding.severity == "medium"
    assert sorted(line.split(" ", 1)[0] for line in finding.evidence) == [
        "aws-dev-cluster", "aws-dev-flow-logs", "aws-dev-node", "aws-dev-reader"]
    assert "no-permissions-boundary" not in _rules(_audit_edited(sample, "azure-dev", lambda d: None))


@pytest.mark.parametrize(("name", "evidence"), [
    ("aws-dev", "aws-dev-node-AmazonEC2ContainerRegistryReadOnly (aws:iam/rolePolicyAttachment:RolePolicyAttachment)"),
    ("gcp-dev", "gcp-dev-nodes-artifactregistry-reader (gcp:projects/iAMMember:IAMMember)"),
])
def test_nodes_that_may_pull_from_every_repository_are_a_finding(sample: SampleProject, name: str,
                                                                  evidence: str) -> None:
    assert "nodes-pull-any-repository" not in _rules(_audit_edited(sample, name, lambda d: None))
    env = _audit_edited(sample, name, lambda d: d["cluster"].pop("registries"))
    (finding,) = [finding for finding in env.findings if finding.rule == "nodes-pull-any-repository"]
    assert (finding.severity, finding.field) == ("low", "cluster.registries")
    assert [line.split(": ", 1)[0] for line in finding.evidence] == [evidence]
