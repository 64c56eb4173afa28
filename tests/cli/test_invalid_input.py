"""Bad input of every kind: exit 3, one line naming the file and field, nothing run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.project import SampleProject

ENV = "environments/aws-dev.yaml"
POOL = ("must start with a lowercase letter and contain only lowercase letters and digits, at most 12 characters "
        "(a name every cloud accepts)")
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


def _only_min(pool: int, minimum: int):
    def edit(data: dict[str, Any]) -> None:
        del data["cluster"]["node_pools"][pool]["max"]
        data["cluster"]["node_pools"][pool]["min"] = minimum

    return edit


ENV_CASES = {
    "unknown field": (_set("network.subnets", 4), "network.subnets: unknown field"),
    "cidr syntax": (_set("network.cidr", "10.20.0.0/33"), "network.cidr: 10.20.0.0/33 is not a valid IPv4 CIDR"),
    "cidr not text": (_set("network.cidr", [["10.0.0.0/16"]] * 3), "network.cidr: must be an IPv4 CIDR like 10.0.0.0/16"),
    "eks service range": (
        _set("cluster.service_cidr", "172.20.0.0/25"), "cluster.service_cidr: 172.20.0.0/25: AWS takes a service range from /12 to /24",
    ),
    "cidr host bits": (_set("network.cidr", "10.20.0.1/16"), "network.cidr: 10.20.0.1/16 is not a valid IPv4 CIDR"),
    "subnets do not fit": (_set("network.cidr", "10.20.0.0/26"), "network.cidr: 10.20.0.0/26 is too small for 3 zone(s)"),
    "vpc too large": (_set("network.cidr", "10.0.0.0/8"), "network.cidr: 10.0.0.0/8: an AWS VPC takes a range from /16"),
    "zones": (_set("network.zones", 4), "network.zones: must be less than or equal to 3"),
    "eks zones": (
        _set("network.zones", 1), "network.zones: EKS needs control-plane subnets in at least 2 availability zones, got 1",
    ),
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
        "cluster.node_pools[0].max: min (5) is greater than max (4)",
    ),
    "min above the default max": (
        _only_min(pool=1, minimum=4),
        "cluster.node_pools[1].max: min (4) is greater than max (3)",
    ),
    "pool name": (_set("cluster.node_pools.0.name", "System_Pool"), "cluster.node_pools[0].name: must start with a lowercase letter and contain only lowercase letters and digits, at most 12 characters"),
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
    "reserved namespace": (_set("kubernetes.namespaces", ["kube-system"]), "kubernetes.namespaces: Kubernetes reserves 'kube-system'"),
    "recovery days": (_set("secrets.recovery_days", 3), "secrets.recovery_days: must be greater than or equal to 7"),
    "ignore rule without reason": (
        _set("drift.ignore", [{"resource": "aws:ec2/vpc:Vpc", "property": "tags"}]),
        "drift.ignore[0].reason: is required",
    ),
    "name differs from file": (_set("name", "aws-prod"), "name: 'aws-prod' must equal the file name 'aws-dev'"),
    "impossible date": (
        _set("drift.ignore.0.until", "2027-13-01"),
        "drift.ignore[0].until: must be a date like 2027-01-31 (month value is outside expected range of 1-12)",
    ),
    "no secret names": (_set("secrets.names", []), "secrets.names: must name at least one secret (or remove secrets:)"),
    "secrets without names": (_set("secrets", {"recovery_days": 7}), "secrets.names: is required"),
    "secret name": (
        _set("secrets.names", ["db_password"]),
        "secrets.names[0]: must be 1 to 64 letters, digits or '-', starting and ending with a letter or digit",
    ),
    "unknown account": (_set("account", "aws-prod"), "account: unknown account 'aws-prod' (accounts.yaml has: aws-sandbox"),
    "missing network": (_delete("network"), "network: an environment on a cloud needs a network section"),
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
    _assert_one_clear_line(result, f"{ENV}: cluster.node_pools[0].max: min (5) is greater than max (4)")


@pytest.mark.parametrize("verb", [("plan",), ("preview",), ("up", "--yes"), ("refresh",), ("destroy", "--yes"),
                                  ("drift",), ("envs", "validate")], ids=" ".join)
def test_a_cloud_rule_stops_every_verb_before_anything_runs(sample: SampleProject, cli, verb: tuple[str, ...]) -> None:
    """The first ``up`` of a one-zone EKS environment would stop after its VPC is made: no verb gets that far."""
    sample.edit_env("aws-dev", _set("network.zones", 1))
    result = cli("--project", sample.root, *verb, "aws-dev")
    _assert_one_clear_line(result, f"{ENV}: network.zones: EKS needs control-plane subnets in at least 2 availability "
                                   "zones, got 1")
    assert not (sample.root / ".terrane" / "state").exists()


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
        "accounts.aws-sandbox.account_id: must be the 12 digits of an AWS account id",
    ),
    "account id in arabic-indic digits": (
        lambda accounts: accounts["aws-sandbox"].update(account_id="١٢٣٤٥٦٧٨٩٠١٢"),
        "accounts.aws-sandbox.account_id: must be the 12 digits of an AWS account id",
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
    # click's words: "No such option '--yaml'" from 8.4, "No such option: --yaml" before (pyproject admits 8.1).
    assert re.search(r"No such option:? '?--yaml\b", result.stderr)
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
    "aks service range": (
        "azure-dev", _set("cluster.service_cidr", "10.30.0.0/31"),
        "cluster.service_cidr: 10.30.0.0/31: Azure takes a service range from /12 to /28",
    ),
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
    "aws region on azure": ("azure-dev", _set("region", "us-east-1"), "region: 'us-east-1' is an AWS region, not an Azure location (like westeurope)"),
    "gcp label key": ("gcp-dev", _set("tags.Team", "platform"), "tags.Team: a GCP label key must start with a lowercase letter"),
    "gcp label value": ("gcp-dev", _set("tags.team", "Platform"), "tags.team: a GCP label value may contain only lowercase"),
    "gcp label count": (
        "gcp-dev", _set("tags", {f"label-{i}": "x" for i in range(63)}),
        "tags: GCP allows 64 labels on a resource and terrane adds up to 2 of its own: at most 62 here, not 63",
    ),
    "gcp label too long": ("gcp-dev", _set("tags.team", "x" * 64), "tags.team: a GCP label value may contain only"),
    "gcp own label": ("gcp-dev", _set("tags.terrane-environment", "x"), "tags.terrane-environment: terrane sets this tag itself"),
    "aws tag count": (
        "aws-dev", _set("tags", {f"tag-{i}": "x" for i in range(46)}),
        "tags: AWS allows 50 tags on a resource and terrane adds up to 5 of its own: at most 45 here, not 46",
    ),
    "seventy thousand tags": (
        "aws-dev", _set("tags", {f"tag-{i}": "x" for i in range(70_000)}),
        "tags: AWS allows 50 tags on a resource and terrane adds up to 5 of its own: at most 45 here, not 70000",
    ),
    "aws reserved prefix": ("aws-dev", _set("tags.AWS:owner", "x"), "tags.AWS:owner: the aws: prefix is reserved"),
    "aws tag key length": ("aws-dev", _set(f"tags.{'k' * 129}", "x"), f"tags.{'k' * 129}: an AWS tag key has 1 to 128 characters"),
    "aws tag value length": ("aws-dev", _set("tags.team", "v" * 257), "tags.team: an AWS tag value has at most 256 characters"),
    "aws tag characters": ("aws-dev", _set("tags.team!", "x"), "tags.team!: an AWS tag key may contain only letters"),
    "aws own tag": ("aws-dev", _set("tags.managed-by", "me"), "tags.managed-by: terrane sets this tag itself"),
    "azure tag count": (
        "azure-dev", _set("tags", {f"tag-{i}": "x" for i in range(49)}),
        "tags: Azure allows 50 tags on a resource and terrane adds up to 2 of its own: at most 48 here, not 49",
    ),
    "azure tag value length": ("azure-dev", _set("tags.team", "v" * 257), "tags.team: an Azure tag value has at most 256"),
    "azure storage tag name": (
        "azure-dev", _set(f"tags.{'k' * 129}", "x"),
        (f"tags.{'k' * 129}: an Azure tag name has 1 to 128 characters "
         "(with flow_logs, the limit of the storage account that keeps them)"),
    ),
    "azure tag names ignore case": ("azure-dev", _set("tags.Team", "x"), "tags.Team: Azure tag names ignore case"),
    "gcp subnet too small": ("gcp-dev", _set("network.cidr", "10.20.0.0/30"), "network.cidr: 10.20.0.0/30: a GCP subnet takes a range from /8 to /29"),
    "gcp authorized networks": ("gcp-dev", _public(101), "cluster.authorized_cidrs: GCP allows at most 100 CIDRs for a public endpoint"),
    "gcp machine type": ("gcp-dev", _set("cluster.node_pools.1.size", "Standard_D4s_v5"), "cluster.node_pools[1].size: 'Standard_D4s_v5' is neither"),
    "aws authorized cidrs": ("aws-dev", _public(41), "cluster.authorized_cidrs: AWS allows at most 40 CIDRs for a public endpoint"),
    "eks service range outside rfc 1918": (
        "aws-dev", _set("cluster.service_cidr", "100.96.0.0/16"),
        "cluster.service_cidr: 100.96.0.0/16: EKS takes a service range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
    ),
    "aks reserved service range": (
        "azure-dev", _set("cluster.service_cidr", "172.31.0.0/16"),
        "cluster.service_cidr: 172.31.0.0/16 overlaps 172.31.0.0/16, which AKS keeps for itself",
    ),
    "aks service range in the vnet": (
        "azure-dev", _set("cluster.service_cidr", "10.20.0.0/20"),
        "cluster.service_cidr: 10.20.0.0/20 overlaps network.cidr (10.20.0.0/16)",
    ),
    "aks pod range too small": (
        "azure-dev", _set("cluster.pod_cidr", "100.64.0.0/21"),
        ("cluster.pod_cidr: 100.64.0.0/21 has room for 8 node(s), as AKS gives each node a /24 of it, and the node "
         "pools may grow to 14"),
    ),
    "vnet over azure's own addresses": (
        "azure-dev", _set("network.cidr", "168.63.0.0/16"),
        "network.cidr: 168.63.0.0/16 overlaps 168.63.129.16/32, which Azure keeps for the platform",
    ),
    "gke service range": (
        "gcp-dev", _set("cluster.service_cidr", "172.20.0.0/28"),
        "cluster.service_cidr: 172.20.0.0/28: GCP takes a service range from /16 to /27",
    ),
    "gke pod range": ("gcp-dev", _set("cluster.pod_cidr", "100.64.0.0/22"), "cluster.pod_cidr: 100.64.0.0/22: GKE takes a pod range from /9 to /21"),
    "gcp prohibited subnet range": (
        "gcp-dev", _set("cluster.pod_cidr", "169.254.0.0/16"),
        "cluster.pod_cidr: 169.254.0.0/16 overlaps 169.254.0.0/16, which GCP refuses in a subnet",
    ),
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
    _assert_one_clear_line(result, f"environments/{env}.yaml: cluster.node_pools[1].name: must start with a lowercase letter and contain only lowercase letters and digits, at most 12 characters")


def test_a_key_that_is_a_list_is_invalid_yaml(sample: SampleProject, cli) -> None:
    path = sample.env_path("aws-dev")
    path.write_text(path.read_text() + "&r [*r]: x\n")
    _assert_one_clear_line(cli("--project", sample.root, "plan", "aws-dev"), f"{ENV}: line 40, column 1: invalid YAML: found unhashable key")


def test_an_alias_bomb_is_refused_without_unfolding(sample: SampleProject, cli) -> None:
    levels = ", ".join(f"&l{level} [{', '.join([f'*l{level - 1}'] * 9)}]" for level in range(1, 9))
    path = sample.env_path("aws-dev")
    path.write_text(path.read_text().replace("cidr: 10.20.0.0/16", f"cidr: [&l0 [lol, lol], {levels}]"))
    _assert_one_clear_line(cli("--project", sample.root, "plan", "aws-dev"),
                           f"{ENV}: network.cidr: must be an IPv4 CIDR like 10.0.0.0/16")


def test_yaml_nested_too_deeply(sample: SampleProject, cli) -> None:
    sample.env_path("aws-dev").write_text("tags: " + "[" * 5000 + "]" * 5000 + "\n")
    _assert_one_clear_line(cli("--project", sample.root, "plan", "aws-dev"), f"{ENV}: invalid YAML: nested too deeply")


def test_a_byte_that_is_not_utf8_names_the_file_line_and_offset(sample: SampleProject, cli) -> None:
    path = sample.env_path("aws-dev")
    text = path.read_bytes()
    path.write_bytes(text + b"# caf\xe9\n")
    result = cli("--project", sample.root, "plan", "aws-dev")
    line = text.count(b"\n") + 1
    _assert_one_clear_line(result, f"{ENV}: line {line}: byte {len(text) + 5} is not UTF-8; save the file as UTF-8")

    path.write_bytes(text)
    (sample.root / "accounts.yaml").write_bytes(b"accounts:\n  aws-sandbox:\n    cloud: \xff\n")
    result = cli("--project", sample.root, "envs", "validate")
    _assert_one_clear_line(result, "accounts.yaml: line 3: byte 36 is not UTF-8")


def test_a_control_character_names_the_line(sample: SampleProject, cli) -> None:
    (sample.root / "accounts.yaml").write_text(f"accounts:\n  x: 'a\x07{A_SECRET}'\n")
    result = cli("--project", sample.root, "plan", "aws-dev")
    _assert_one_clear_line(result, "accounts.yaml: line 2: invalid YAML: control character #x07 is not allowed")
    assert A_SECRET not in result.stderr


def test_dates_stay_text_where_text_is_expected(sample: SampleProject, cli) -> None:
    path = sample.env_path("aws-dev")
    path.write_text(path.read_text().replace("tags:\n", "tags:\n  expires: 2027-01-01\n"))
    assert cli("--project", sample.root, "envs", "validate", "aws-dev").code == 0
    planned = cli("--project", sample.root, "plan", "aws-dev", "--json")
    assert planned.code == 0, planned.stderr
    assert '"expires": "2027-01-01"' in planned.stdout


def test_a_yml_file_is_an_environment_too(sample: SampleProject, cli) -> None:
    sample.env_path("aws-dev").rename(sample.root / "environments" / "aws-dev.yml")
    listed = cli("--project", sample.root, "envs", "list", "--json")
    assert [row["name"] for row in json.loads(listed.stdout)["environments"] if row["valid"]] == [
        "aws-dev", "azure-dev", "gcp-dev"]
    assert cli("--project", sample.root, "plan", "aws-dev", "--json").code == 0
    everything = cli("--project", sample.root, "plan", "--all", "--json")
    assert everything.code == 0, everything.stderr
    assert '"environment": "aws-dev"' in everything.stdout

    sample.write_env("aws-dev", yaml.safe_load((sample.root / "environments" / "aws-dev.yml").read_text()))
    _assert_one_clear_line(
        cli("--project", sample.root, "plan", "aws-dev"),
        "environments/aws-dev.yaml and environments/aws-dev.yml both describe environment 'aws-dev': keep one of them",
    )
    rows = {row["name"]: row for row in json.loads(cli("--project", sample.root, "envs", "list", "--json").stdout)["environments"]}
    assert rows["aws-dev"]["valid"] is False and "both describe" in rows["aws-dev"]["error"]
    assert cli("--project", sample.root, "plan", "--all").code == 3


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("loop.yaml", "environments/loop.yaml: cannot be read: it is a loop of symbolic links"),
        ("gone.yaml", "environments/loop.yaml: cannot be read: it is a symbolic link to gone.yaml, which does not exist"),
    ],
)
def test_an_unreadable_environment_is_named(sample: SampleProject, cli, target: str, expected: str) -> None:
    (sample.root / "environments" / "loop.yaml").symlink_to(target)
    _assert_one_clear_line(cli("--project", sample.root, "plan", "loop"), expected)
    rows = {row["name"]: row for row in json.loads(cli("--project", sample.root, "envs", "list", "--json").stdout)["environments"]}
    assert rows["loop"]["error"] == expected


def _tree(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*"))


PROJECT_COMMANDS = [
    ("envs", "list"), ("envs", "validate"), ("accounts", "list"), ("plan", "aws-dev"), ("preview", "aws-dev"),
    ("up", "aws-dev", "--yes"), ("refresh", "--all"), ("destroy", "aws-dev", "--yes"), ("drift", "--all"),
    ("status",), ("outputs", "aws-dev"), ("doctor",),
]


@pytest.mark.parametrize("command", PROJECT_COMMANDS, ids=" ".join)
def test_without_pulumi_yaml_nothing_runs_or_is_written(sample: SampleProject, cli, command: tuple[str, ...]) -> None:
    (sample.root / "Pulumi.yaml").unlink()
    before = _tree(sample.root)
    result = cli("--project", sample.root, *command)
    assert result.code == 3, result
    assert result.stderr.strip().splitlines() == [
        f"error: {sample.root}: no Pulumi.yaml; a terrane project has Pulumi.yaml, accounts.yaml and environments/",
        "  (run 'terrane init' in a new directory and copy its Pulumi.yaml here)",
    ]
    assert _tree(sample.root) == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name: [terrane\n", "Pulumi.yaml: line 2, column 1: invalid YAML"),
        ("- terrane\n", "Pulumi.yaml: must be a YAML mapping"),
        ("name: terrane\n", "Pulumi.yaml: runtime: is required"),
        ("name: my project\nruntime: python\n",
         "Pulumi.yaml: name: must be a Pulumi project name: 1 to 100 letters, digits, '-', '_' or '.'"),
    ],
)
def test_a_broken_pulumi_yaml_is_named_and_left_alone(sample: SampleProject, cli, content: str, expected: str) -> None:
    (sample.root / "Pulumi.yaml").write_text(content)
    before = _tree(sample.root)
    _assert_one_clear_line(cli("--project", sample.root, "up", "aws-dev", "--yes"), expected)
    assert (sample.root / "Pulumi.yaml").read_text() == content
    assert _tree(sample.root) == before


def test_every_problem_of_a_file_at_once(sample: SampleProject, cli) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["name"] = "aws-prod"
        data["network"]["zones"] = 4
        data["network"]["nat"] = "always"
        data["cluster"]["node_pools"][0].update(name="System", min=7)
        data["secrets"]["recovery_days"] = 3
        data["kubernetes"]["namespaces"] = ["kube-x", "apps", "apps", "default"]
        data["tags"]["aws:owner"] = "x"
        data["region"] = "westeurope"

    sample.edit_env("aws-dev", edit)
    result = cli("--project", sample.root, "envs", "validate", "aws-dev")
    assert result.code == 3
    assert result.stderr.strip().splitlines() == [f"error: {ENV}: {problem}" for problem in (
        "network.zones: must be less than or equal to 3",
        "network.nat: must be 'none', 'single' or 'per_zone'",
        f"cluster.node_pools[0].name: {POOL}",
        "cluster.node_pools[0].max: min (7) is greater than max (4)",
        "secrets.recovery_days: must be greater than or equal to 7",
        "kubernetes.namespaces: duplicate namespace 'apps'; Kubernetes reserves 'kube-x', 'default'",
        "name: 'aws-prod' must equal the file name 'aws-dev'",
        "region: 'westeurope' is an Azure location, not an AWS region (like us-east-1)",
        "tags.aws:owner: the aws: prefix is reserved for AWS's own tags",
    )]


def test_the_rules_of_valid_sections_run_beside_the_errors_of_others(sample: SampleProject, cli) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["network"]["zones"] = 0
        data["cluster"].update(endpoint="public", authorized_cidrs=[])
        data["kubernetes"]["namespaces"] = ["kube-x", "default"]

    sample.edit_env("aws-dev", edit)
    result = cli("--project", sample.root, "envs", "validate", "aws-dev")
    assert result.stderr.strip().splitlines() == [
        f"error: {ENV}: network.zones: must be greater than or equal to 1",
        f"error: {ENV}: kubernetes.namespaces: Kubernetes reserves 'kube-x', 'default'",
        # The cluster is valid: its rules ran, but none that needs the network.
        f"error: {ENV}: cluster.authorized_cidrs: endpoint: public needs the CIDRs allowed to reach it",
    ]


def test_no_spec_field_has_a_bare_pattern() -> None:
    """Every pattern of the specs comes with words (``stacks.spec.matching``), so no message quotes a regex."""
    import typing

    from pydantic import BaseModel, StringConstraints

    from terrane.stacks.spec import accounts, environments, references

    def constraints(annotation: Any) -> list[Any]:
        found = list(getattr(annotation, "__metadata__", ()))
        for argument in typing.get_args(annotation):
            found += constraints(argument)
        return found

    models = [value for module in (accounts, environments, references) for value in vars(module).values()
              if isinstance(value, type) and issubclass(value, BaseModel)]
    assert len(models) > 20
    bare = [f"{model.__name__}.{name}" for model in models for name, field in model.model_fields.items()
            for constraint in [*field.metadata, *constraints(field.annotation)]
            if isinstance(constraint, StringConstraints) and constraint.pattern]
    assert bare == []


PATTERN_CASES = {
    "role arn": (lambda a: a["aws-sandbox"]["auth"]["assume_role"].update(role_arn=A_SECRET),
                 "accounts.aws-sandbox.auth.assume_role.role_arn: must be an IAM role ARN"),
    "env reference": (lambda a: a["aws-sandbox"]["auth"]["assume_role"].update(external_id={"env": A_SECRET}),
                      "accounts.aws-sandbox.auth.assume_role.external_id.env: must be an environment variable's name"),
    "aws secret name": (lambda a: a["aws-sandbox"]["auth"]["assume_role"].update(external_id={"aws_secret": A_SECRET + " x"}),
                        "accounts.aws-sandbox.auth.assume_role.external_id.aws_secret: must be a secret's name or ARN"),
    "tenant": (lambda a: a["azure-sandbox"].update(tenant_id=A_SECRET), "accounts.azure-sandbox.tenant_id: must be a UUID"),
    "gcp project": (lambda a: a["gcp-sandbox"].update(project=A_SECRET), "accounts.gcp-sandbox.project: must be a GCP project id"),
    "account name": (lambda a: a.update({"Prod": a["aws-sandbox"]}),
                     "accounts.Prod: the account name must start with a lowercase letter"),
}


@pytest.mark.parametrize("case", PATTERN_CASES, ids=list(PATTERN_CASES))
def test_pattern_rules_are_worded_and_never_repeat_the_value(sample: SampleProject, cli, case: str) -> None:
    edit, expected = PATTERN_CASES[case]
    data = sample.load_accounts()
    edit(data["accounts"])
    sample.write_accounts(data)
    result = cli("--project", sample.root, "envs", "validate")
    _assert_one_clear_line(result, f"accounts.yaml: {expected}")
    assert "pattern" not in result.stderr and "^" not in result.stderr
    assert A_SECRET not in result.stderr + result.stdout
