"""Bad input of every kind: exit 3, one line naming the file and field, nothing run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.project import SampleProject

ENV = "environments/aws-dev.yaml"
A_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _set(path: str, value: Any):
    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        node[last] = value

    return edit


def _delete(key: str):
    return lambda data: data.pop(key)


ENV_CASES = {
    "unknown field": (_set("network.subnets", 4), "network.subnets: unknown field"),
    "cidr syntax": (_set("network.cidr", "10.20.0.0/33"), "network.cidr: 10.20.0.0/33 is not a valid IPv4 CIDR"),
    "cidr host bits": (_set("network.cidr", "10.20.0.1/16"), "network.cidr: 10.20.0.1/16 is not a valid IPv4 CIDR"),
    "subnets do not fit": (_set("network.cidr", "10.20.0.0/26"), "network.cidr: 10.20.0.0/26 is too small for 3 zone(s)"),
    "vpc too large": (_set("network.cidr", "10.0.0.0/8"), "network.cidr: 10.0.0.0/8: an AWS VPC takes a range from /16"),
    "zones": (_set("network.zones", 4), "network.zones: must be less than or equal to 3"),
    "nat": (_set("network.nat", "always"), "network.nat: must be 'none', 'single' or 'per_zone'"),
    "service overlaps network": (
        _set("cluster.service_cidr", "10.20.128.0/20"),
        "cluster.service_cidr: 10.20.128.0/20 overlaps network.cidr (10.20.0.0/16)",
    ),
    "pods overlap services": (
        _set("cluster.pod_cidr", "172.20.0.0/14"),
        "cluster.service_cidr: 172.20.0.0/16 overlaps cluster.pod_cidr (172.20.0.0/14)",
    ),
    "control plane overlaps pods": (
        _set("cluster.control_plane_cidr", "100.64.0.0/28"),
        "cluster.control_plane_cidr: 100.64.0.0/28 overlaps cluster.pod_cidr (100.64.0.0/14)",
    ),
    "min greater than max": (
        _set("cluster.node_pools.0.min", 5),
        "cluster.node_pools[0]: min (5) is greater than max (4)",
    ),
    "pool name": (_set("cluster.node_pools.0.name", "System_Pool"), "cluster.node_pools[0].name: should match pattern"),
    "duplicate pool": (_set("cluster.node_pools.1.name", "system"), "cluster.node_pools: duplicate node pool 'system'"),
    "machine type": (_set("cluster.node_pools.0.size", "huge"), "cluster.node_pools[0].size: 'huge' is neither a neutral size"),
    "endpoint": (_set("cluster.endpoint", "internal"), "cluster.endpoint: must be 'private' or 'public'"),
    "authorized with private endpoint": (
        _set("cluster.authorized_cidrs", ["203.0.113.0/24"]),
        "cluster.authorized_cidrs: only allowed with endpoint: public",
    ),
    "public endpoint open to all": (
        _set("cluster.endpoint", "public"),
        "cluster.authorized_cidrs: endpoint: public needs the CIDRs allowed to reach it",
    ),
    "kubernetes without cluster": (_delete("cluster"), "kubernetes: needs a cluster section"),
    "reserved namespace": (_set("kubernetes.namespaces", ["kube-system"]), "kubernetes.namespaces: kube-system is reserved"),
    "recovery days": (_set("secrets.recovery_days", 3), "secrets.recovery_days: must be greater than or equal to 7"),
    "ignore rule without reason": (
        _set("drift.ignore", [{"resource": "aws:ec2/vpc:Vpc", "property": "tags"}]),
        "drift.ignore[0].reason: is required",
    ),
    "name differs from file": (_set("name", "aws-prod"), "name: 'aws-prod' must equal the file name 'aws-dev'"),
    "unknown account": (_set("account", "aws-prod"), "account: unknown account 'aws-prod' (accounts.yaml has: aws-sandbox"),
    "missing network": (_delete("network"), "network: is required"),
}


def _assert_one_clear_line(result, expected: str) -> None:
    assert result.code == 3, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", ENV_CASES, ids=list(ENV_CASES))
def test_invalid_environment_is_refused_before_anything_runs(sample: SampleProject, cli, case: str) -> None:
    edit, expected = ENV_CASES[case]
    sample.edit_env("aws-dev", edit)
    _assert_one_clear_line(cli("--project", sample.root, "plan", "aws-dev"), f"{ENV}: {expected}")


def test_validate_reports_the_same_problem(sample: SampleProject, cli) -> None:
    sample.edit_env("aws-dev", _set("cluster.node_pools.0.min", 5))
    result = cli("--project", sample.root, "envs", "validate", "aws-dev")
    _assert_one_clear_line(result, f"{ENV}: cluster.node_pools[0]: min (5) is greater than max (4)")


def test_invalid_yaml_names_file_and_line(sample: SampleProject, cli) -> None:
    sample.env_path("aws-dev").write_text("name: aws-dev\nnetwork: [10.0.0.0/16\naccount: x\n")
    result = cli("--project", sample.root, "plan", "aws-dev")
    _assert_one_clear_line(result, f"{ENV}: line 3, column 8: invalid YAML")


def test_duplicate_yaml_key_is_refused(sample: SampleProject, cli) -> None:
    text = sample.env_path("aws-dev").read_text()
    sample.env_path("aws-dev").write_text(text + "protect: true\n")
    result = cli("--project", sample.root, "plan", "aws-dev")
    _assert_one_clear_line(result, f"{ENV}: line ")
    assert "duplicate key 'protect'" in result.stderr


def _static_keys(secret: Any) -> dict[str, Any]:
    return {"static": {"access_key_id": {"env": "AWS_ACCESS_KEY_ID"}, "secret_access_key": secret}}


ACCOUNT_CASES = {
    "plain aws secret key": (
        lambda accounts: accounts["aws-sandbox"].update(auth=_static_keys(A_SECRET)),
        "accounts.aws-sandbox.auth.static.secret_access_key: a secret must be a reference",
    ),
    "plain azure client secret": (
        lambda accounts: accounts["azure-sandbox"]["auth"]["service_principal"].update(client_secret=A_SECRET),
        "accounts.azure-sandbox.auth.service_principal.client_secret: a secret must be a reference",
    ),
    "plain gcp key": (
        lambda accounts: accounts["gcp-sandbox"]["auth"].update(service_account_key=A_SECRET),
        "accounts.gcp-sandbox.auth.service_account_key: a secret must be a reference",
    ),
    "two references in one": (
        lambda accounts: accounts["aws-sandbox"].update(auth=_static_keys({"env": "X", "file": "/tmp/x"})),
        "accounts.aws-sandbox.auth.static.secret_access_key: a secret reference has exactly one of",
    ),
    "two auth methods": (
        lambda accounts: accounts["aws-sandbox"]["auth"].update(profile="sandbox"),
        "accounts.aws-sandbox.auth: exactly one of assume_role, profile, static is required",
    ),
    "unknown cloud": (
        lambda accounts: accounts["aws-sandbox"].update(cloud="oracle"),
        "accounts.aws-sandbox.cloud: must be one of aws, azure, gcp",
    ),
    "account id": (
        lambda accounts: accounts["aws-sandbox"].update(account_id="1234"),
        "accounts.aws-sandbox.account_id: should match pattern",
    ),
    "unknown account field": (
        lambda accounts: accounts["aws-sandbox"].update(password=A_SECRET),
        "accounts.aws-sandbox.password: unknown field",
    ),
}


@pytest.mark.parametrize("case", ACCOUNT_CASES, ids=list(ACCOUNT_CASES))
def test_invalid_account_is_refused_and_never_echoed(sample: SampleProject, cli, case: str) -> None:
    edit, expected = ACCOUNT_CASES[case]
    data = sample.load_accounts()
    edit(data["accounts"])
    sample.write_accounts(data)
    result = cli("--project", sample.root, "plan", "aws-dev")
    _assert_one_clear_line(result, f"accounts.yaml: {expected}")
    assert A_SECRET not in result.stderr + result.stdout


def test_yaml_error_does_not_echo_the_line(sample: SampleProject, cli) -> None:
    (sample.root / "accounts.yaml").write_text(f"accounts:\n  aws-sandbox: {{secret: {A_SECRET}\n")
    result = cli("--project", sample.root, "plan", "aws-dev")
    _assert_one_clear_line(result, "accounts.yaml: line 3, column 1: invalid YAML")
    assert A_SECRET not in result.stderr


def test_unknown_environment(sample: SampleProject, cli) -> None:
    result = cli("--project", sample.root, "plan", "aws-prod")
    _assert_one_clear_line(result, "unknown environment 'aws-prod': there is no environments/aws-prod.yaml (known: aws-dev, azure-dev, gcp-dev)")


def test_bad_flag_is_invalid_input(sample: SampleProject, cli) -> None:
    result = cli("--project", sample.root, "plan", "aws-dev", "--yaml")
    assert result.code == 3
    assert "No such option '--yaml'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_start_method_runs_nothing(sample: SampleProject, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_START_METHOD", "thread")
    _assert_one_clear_line(cli("--project", sample.root, "preview", "aws-dev"),
                           "TERRANE_START_METHOD=thread: expected one of forkserver, spawn")
    assert not (sample.root / ".terrane").exists()


def test_not_a_project(tmp_path, cli) -> None:
    _assert_one_clear_line(cli("--project", tmp_path, "envs", "list"), "is not a terrane project")


def test_verbose_shows_the_traceback(sample: SampleProject, cli) -> None:
    sample.edit_env("aws-dev", _set("network.zones", 4))
    result = cli("-v", "--project", sample.root, "plan", "aws-dev")
    assert result.code == 3
    assert "Traceback" in result.stderr


def _public(cidrs: int):
    def edit(data: dict[str, Any]) -> None:
        data["cluster"].update(endpoint="public", authorized_cidrs=[f"198.51.{i // 256}.{i % 256}/32" for i in range(cidrs)])

    return edit


CLOUD_CASES = {
    "azure network too small": ("azure-dev", _set("network.cidr", "10.20.0.0/25"), "network.cidr: 10.20.0.0/25 is too small for Azure"),
    "aks system pool": (
        "azure-dev",
        _set("cluster.node_pools.0.min", 0),
        "cluster.node_pools[0].min: the first pool is AKS's system pool and needs at least 1 node",
    ),
    "azure tag name": ("azure-dev", _set("tags.team/owner", "x"), "tags.team/owner: Azure tag names cannot contain"),
    "azure machine type": (
        "azure-dev",
        _set("cluster.node_pools.0.size", "m6i.xlarge"),
        ("cluster.node_pools[0].size: 'm6i.xlarge' is neither a neutral size (small, medium, large, xlarge) "
         "nor a machine type of Azure (like Standard_D4s_v5)"),
    ),
    "aws region on azure": ("azure-dev", _set("region", "us-east-1"), "region: 'us-east-1' is not a region of Azure (like westeurope)"),
    "gcp labels": ("gcp-dev", _set("tags.Team", "Platform"), "tags.Team: GCP labels are lowercase letters"),
    "gcp subnet too small": ("gcp-dev", _set("network.cidr", "10.20.0.0/30"), "network.cidr: 10.20.0.0/30: a GCP subnet takes a range from /8 to /29"),
    "gcp authorized networks": ("gcp-dev", _public(51), "cluster.authorized_cidrs: GCP allows at most 50 CIDRs for a public endpoint"),
    "gcp machine type": ("gcp-dev", _set("cluster.node_pools.1.size", "Standard_D4s_v5"), "cluster.node_pools[1].size: 'Standard_D4s_v5' is neither"),
    "aws authorized cidrs": ("aws-dev", _public(41), "cluster.authorized_cidrs: AWS allows at most 40 CIDRs for a public endpoint"),
}


@pytest.mark.parametrize("case", CLOUD_CASES, ids=list(CLOUD_CASES))
def test_each_cloud_rules(sample: SampleProject, cli, case: str) -> None:
    env, edit, expected = CLOUD_CASES[case]
    sample.edit_env(env, edit)
    result = cli("--project", sample.root, "envs", "validate", env)
    _assert_one_clear_line(result, f"environments/{env}.yaml: {expected}")


@pytest.mark.parametrize("env", ["aws-dev", "azure-dev", "gcp-dev"])
def test_node_pool_names_follow_aks_and_gke_rules(sample: SampleProject, cli, env: str) -> None:
    sample.edit_env(env, _set("cluster.node_pools.1.name", "batchworkers01"))
    result = cli("--project", sample.root, "envs", "validate", env)
    _assert_one_clear_line(result, f"environments/{env}.yaml: cluster.node_pools[1].name: should match pattern")
