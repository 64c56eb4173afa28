"""Generated project files, as the bytes a user could save: ``environments/<name>.yaml`` and ``accounts.yaml``.

Five families, each for both files:

- ``*_within_schema``: any shape the spec models allow (``tests.fuzz.schema``);
- ``valid_*``: realistic files that break no rule, built like the sample project's;
- ``*_near_misses``: a valid file with one thing wrong (a type, a range, an unknown
  key, overlapping CIDRs, an impossible date, a huge list, a missing field);
- ``*_raw_bytes``: random bytes, other encodings, a valid file spliced or cut short,
  nesting thousands deep;
- ``*_alias_bombs``: anchors that expand to billions of nodes, or contain themselves.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Any

import yaml
from hypothesis import strategies as st

from terrane.stacks.network_rules import EKS_MIN_ZONES
from terrane.stacks.spec.accounts import ACCOUNT_MODELS, AccountName
from terrane.stacks.spec.environments import NEUTRAL_SIZES, Environment, EnvName
from tests.fuzz.schema import from_model, pattern_of, required_fields

ENV_NAME = "fuzzed"
"""The stem of the fuzzed environment file, ``environments/fuzzed.yaml``."""

SAMPLE_ENVIRONMENTS = {"aws": "aws-dev", "azure": "azure-dev", "gcp": "gcp-dev"}
SAMPLE_ACCOUNTS = {"aws": "aws-sandbox", "azure": "azure-sandbox", "gcp": "gcp-sandbox"}
CLOUDS = tuple(SAMPLE_ACCOUNTS)

SMALL_ENVIRONMENTS = {
    f"small-{cloud}": {"name": f"small-{cloud}", "account": account,
                       "network": {"cidr": "10.20.0.0/16", "zones": 1, "nat": "none", "flow_logs": False}}
    for cloud, account in SAMPLE_ACCOUNTS.items()
}
"""A network and nothing else, on each sample account: what the accounts tests plan (a plan of a few resources)."""

REGIONS = {
    "aws": ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"],
    "azure": ["westeurope", "northeurope", "eastus", "eastus2", "uksouth"],
    "gcp": ["europe-west1", "us-central1", "asia-east1", "us-east4"],
}
OWN_MACHINE_TYPES = {
    "aws": ["m6i.large", "c7g.2xlarge", "t3.medium", "r6i.4xlarge"],
    "azure": ["Standard_D4s_v5", "Standard_E8s_v5", "Standard_B2ms"],
    "gcp": ["e2-standard-4", "n2-standard-8", "c3-highcpu-4"],
}
IGNORED_TYPES = {
    "aws": "aws:eks/nodeGroup:NodeGroup",
    "azure": "azure-native:containerservice:AgentPool",
    "gcp": "gcp:container/nodePool:NodePool",
}

_ACCOUNT_NAME = pattern_of(AccountName)
_POOL_NAME = r"[a-z][a-z0-9]{0,11}"
_DNS_LABEL = r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"
_GCP_LABEL = r"[a-z][a-z0-9_-]{0,20}"
_UUID = st.uuids().map(str)


class Plain(str):
    """A scalar written unquoted, so that YAML gives it the type its text reads as: a date, a bool, a float."""


class _Dumper(yaml.CSafeDumper):
    pass


def _plain(dumper: yaml.SafeDumper, value: Plain) -> yaml.ScalarNode:
    return dumper.represent_scalar(dumper.resolve(yaml.ScalarNode, str(value), (True, False)), str(value))


_Dumper.add_representer(Plain, _plain)


def dump(data: Any) -> bytes:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True).encode()


# --- within the schema ---------------------------------------------------------------------

def environment_within_schema() -> st.SearchStrategy[dict[str, Any]]:
    """Any environment the models' shapes allow; its name and account are often the ones that exist."""
    overrides = {
        (Environment, "name"): st.just(ENV_NAME) | st.from_regex(pattern_of(EnvName), fullmatch=True),
        (Environment, "account"): st.sampled_from(list(SAMPLE_ACCOUNTS.values()))
        | st.from_regex(_ACCOUNT_NAME, fullmatch=True),
    }
    return from_model(Environment, overrides)


def accounts_within_schema() -> st.SearchStrategy[dict[str, Any]]:
    """Any accounts of any cloud, often under the names the sample environments use."""
    names = st.sampled_from(list(SAMPLE_ACCOUNTS.values())) | st.from_regex(_ACCOUNT_NAME, fullmatch=True)
    account = st.one_of(*(from_model(model) for model in ACCOUNT_MODELS.values()))
    return st.fixed_dictionaries({"accounts": st.dictionaries(names, account, max_size=4)})


# --- valid, realistic files ------------------------------------------------------------------

_NETWORK = st.builds(
    lambda address, prefix: str(IPv4Network((0x0A000000 + address, prefix), strict=False)),
    st.integers(0, 2**24 - 1),
    st.integers(16, 24),
)
"""A range inside 10.0.0.0/8, which every cloud takes and the default cluster ranges stay clear of."""


_PUBLIC_CIDR = st.sampled_from(["203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24", "8.8.8.0/24", "1.2.3.4/32"])


@st.composite
def valid_environment(draw: st.DrawFn, cloud: str) -> dict[str, Any]:
    """An environment on ``cloud`` that breaks no rule, in the sample project's style."""
    env: dict[str, Any] = {"name": ENV_NAME, "account": SAMPLE_ACCOUNTS[cloud]}
    if draw(st.booleans()):
        env["region"] = draw(st.sampled_from(REGIONS[cloud]))
    with_cluster = draw(st.booleans())
    if draw(st.integers(0, 4)):
        env["network"] = {
            "cidr": draw(_NETWORK),
            # EKS puts its control plane in two zones or more (stacks.network_rules.eks_zones).
            "zones": draw(st.integers(EKS_MIN_ZONES if with_cluster and cloud == "aws" else 1, 3)),
            "nat": draw(st.sampled_from(["none", "single", "per_zone"])),
            "flow_logs": draw(st.booleans()),
        }
    else:
        env["network"] = draw(_existing_network(cloud))
    if with_cluster:
        env["cluster"] = draw(_cluster(cloud))
        if draw(st.booleans()):
            namespaces = draw(st.lists(st.from_regex(_DNS_LABEL, fullmatch=True), max_size=3, unique=True))
            env["kubernetes"] = {"namespaces": [n for n in namespaces if n != "default" and not n.startswith("kube-")]}
    if draw(st.booleans()):
        names = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True), min_size=1, max_size=3,
                         unique=True)
        env["secrets"] = {"names": draw(names), "recovery_days": draw(st.integers(7, 30))}
        if cloud == "gcp" and draw(st.booleans()):
            env["secrets"]["deletion_protection"] = draw(st.booleans())
    env["tags"] = draw(_tags(cloud))
    env["protect"] = draw(st.booleans())
    if draw(st.booleans()):
        env["drift"] = {"ignore": [{
            "resource": IGNORED_TYPES[cloud],
            "property": "scalingConfig.desiredSize",
            "reason": "managed by the cluster autoscaler",
            "until": draw(st.dates()),
        }]}
    return env


# An existing network whose state is not read offline (a local one needs its file): the outputs each cloud maps.
_STATE_CONFIGS = {
    "s3": {"bucket": "tf-state", "key": "network/prod.tfstate", "region": "eu-west-1"},
    "azurerm": {"storage_account_name": "tfstateprod", "container_name": "tfstate", "key": "network.tfstate"},
    "remote": {"organization": "example", "workspaces": {"name": "network-prod"}},
}
_STATE_OUTPUTS = {
    "aws": {"vpc_id": "vpc_id", "private_subnet_ids": "private_subnets"},
    "azure": {"vnet_id": "vnet_id", "node_subnet_id": "aks_subnet_id", "endpoint_subnet_id": "endpoints_subnet_id"},
    "gcp": {"network": "network", "subnetwork": "subnetwork", "pods_range_name": "pods",
            "services_range_name": "services"},
}


@st.composite
def _existing_network(draw: st.DrawFn, cloud: str) -> dict[str, Any]:
    backend = draw(st.sampled_from(list(_STATE_CONFIGS)))
    network: dict[str, Any] = {"terraform_state": copy.deepcopy({"backend": backend, "config": _STATE_CONFIGS[backend],
                                                                 "outputs": _STATE_OUTPUTS[cloud]})}
    if cloud != "aws" and draw(st.booleans()):
        network["zones"] = draw(st.integers(1, 3))
    if cloud == "azure" and draw(st.booleans()):
        network["nat"] = draw(st.sampled_from(["none", "single", "per_zone"]))
    return network


@st.composite
def _cluster(draw: st.DrawFn, cloud: str) -> dict[str, Any]:
    names = draw(st.lists(st.from_regex(_POOL_NAME, fullmatch=True), min_size=1, max_size=3, unique=True))
    pools = []
    for index, name in enumerate(names):
        low, high = sorted(draw(st.lists(st.integers(1 if index == 0 else 0, 20), min_size=2, max_size=2)))
        size = draw(st.sampled_from([*NEUTRAL_SIZES, *OWN_MACHINE_TYPES[cloud]]))
        pools.append({"name": name, "size": size, "min": low, "max": max(high, 1)})
    public = draw(st.booleans())
    return {
        "kubernetes_version": draw(st.sampled_from(["1.29", "1.30", "1.31", "1.32"])),
        "endpoint": "public" if public else "private",
        "authorized_cidrs": draw(st.lists(_PUBLIC_CIDR, min_size=1, max_size=3, unique=True)) if public else [],
        "node_pools": pools,
        "deletion_protection": draw(st.booleans()),
    }


def _tags(cloud: str) -> st.SearchStrategy[dict[str, str]]:
    if cloud == "gcp":
        label = st.from_regex(_GCP_LABEL, fullmatch=True)
        return st.dictionaries(label, st.from_regex(r"[a-z0-9_-]{0,20}", fullmatch=True), max_size=3)
    key = st.from_regex(r"[A-Za-z][A-Za-z0-9_.=+@-]{0,29}", fullmatch=True)
    value = st.from_regex(r"[A-Za-z0-9 _.:/=+@-]{0,30}", fullmatch=True)
    # Azure's tag names ignore case: two keys that differ only in case are one tag there.
    return st.lists(st.tuples(key, value), max_size=3, unique_by=lambda tag: tag[0].lower()).map(dict)


_REFERENCE = st.one_of(
    st.sampled_from(["TERRANE_AWS_EXTERNAL_ID", "AZURE_CLIENT_SECRET", "AWS_SECRET_ACCESS_KEY", "_TOKEN2"]).map(
        lambda name: {"env": name}
    ),
    st.sampled_from(["~/.config/terrane/gcp-sa.json", "/etc/terrane/secret"]).map(lambda path: {"file": path}),
    st.builds(lambda name, region: {"aws_secret": name, "region": region},
              st.sampled_from(["terrane/azure", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"]),
              st.sampled_from(REGIONS["aws"])),
)
_AWS_ACCOUNT_ID = st.integers(0, 10**12 - 1).map(lambda number: f"{number:012d}")
_GCP_PROJECT = st.sampled_from(["sandbox-project-123", "platform-prod", "a-b-c-d-e-f-0"])


@st.composite
def valid_account(draw: st.DrawFn, cloud: str) -> dict[str, Any]:
    """An account of ``cloud`` with exactly one auth method and secret references where secrets belong."""
    if cloud == "aws":
        account_id = draw(_AWS_ACCOUNT_ID)
        role = {"role_arn": f"arn:aws:iam::{account_id}:role/terrane-provisioner", "session_name": "terrane"}
        if draw(st.booleans()):
            role["external_id"] = draw(_REFERENCE | st.sampled_from(["ext-7f3a", "x1"]))
        auth = draw(st.sampled_from([
            {"assume_role": role},
            {"profile": "sandbox"},
            {"static": {"access_key_id": draw(_REFERENCE), "secret_access_key": draw(_REFERENCE)}},
        ]))
        return {"cloud": "aws", "account_id": account_id, "region": draw(st.sampled_from(REGIONS["aws"])), "auth": auth}
    if cloud == "azure":
        auth = draw(st.sampled_from([
            {"service_principal": {"client_id": draw(_UUID), "client_secret": draw(_REFERENCE)}},
            {"oidc": {"client_id": draw(_UUID), "token": draw(_REFERENCE)}},
            {"cli": {}},
        ]))
        return {"cloud": "azure", "tenant_id": draw(_UUID), "subscription_id": draw(_UUID),
                "location": draw(st.sampled_from(REGIONS["azure"])), "auth": auth}
    project = draw(_GCP_PROJECT)
    auth = draw(st.sampled_from([
        {"service_account_key": draw(_REFERENCE)},
        {"impersonate": {"service_account": f"terrane@{project}.iam.gserviceaccount.com"}},
        {"application_default": {}},
    ]))
    return {"cloud": "gcp", "project": project, "region": draw(st.sampled_from(REGIONS["gcp"])), "auth": auth}


@st.composite
def valid_accounts(draw: st.DrawFn) -> dict[str, Any]:
    """The sample accounts' names, each with a new account of its cloud, and perhaps others."""
    accounts = {name: draw(valid_account(cloud)) for cloud, name in SAMPLE_ACCOUNTS.items()}
    extra = draw(st.dictionaries(st.sampled_from(["prod", "aws-prod", "shared-services", "x"]),
                                 st.sampled_from(CLOUDS).flatmap(valid_account), max_size=2))
    return {"accounts": {**extra, **accounts}}


def any_valid_environment() -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from(CLOUDS).flatmap(valid_environment)


# --- near misses: one thing wrong ------------------------------------------------------------

KeyPath = tuple[str | int, ...]

_ODD_SCALARS = st.sampled_from([
    Plain(text) for text in ("yes", "no", "on", "~", "null", ".inf", "-.nan", "0x1F", "0o17", "1_000", "1e400",
                             "2027-01-01", "2027-13-01", "12:30:00", "<<", "=")
])
_WRONG_TYPES = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(), st.booleans(), st.none(), st.text(max_size=20), _ODD_SCALARS,
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.integers(1_000, 200_000).map(lambda n: "x" * n), st.dates(),
)
_BAD_CIDRS = st.sampled_from([
    "10.0.0.0/33", "10.0.0.256/16", "10.0.0.1/16", "0.0.0.0/0", "255.255.255.255/32", "::1/128", "10.0.0.0/-1",
    "10.0.0.0 /16", "10.0.0.0/016", "010.0.0.0/16", "10.0.0.0/16\n", "10.0.0.0", "10/8", "10.0.0.0/255.255.0.0",
    "1.2.3.4/32", "100.64.0.0/10", "172.20.0.0/16", "10.0.0.0/8", "10.0.0.0/29", "10.0.0.0/30",
])
_BAD_DATES = st.sampled_from([
    Plain(text) for text in ("2027-13-01", "2027-02-30", "2027-00-10", "2027-04-31", "2027-02-29", "0000-01-01",
                             "9999-12-31", "2027-1-1", "2027-01-01T25:00:00", "2027-01-01 10:00:00 +99:00",
                             "2027-01-32", "12027-01-01", "2027-01-01T10:00:00Z", "1-1-1")
])
OUT_OF_RANGE: dict[str, st.SearchStrategy[Any]] = {
    "zones": st.sampled_from([0, 4, -1, 10**20, 2.5, "3", 3.0, True, Plain("yes")]),
    # YAML's loose booleans, which strict fields refuse: only true and false, unquoted, are booleans.
    **dict.fromkeys(["protect", "flow_logs", "deletion_protection"],
                    st.sampled_from(["yes", "true", 1, 0, 1.0, Plain("1"), Plain("0x1")])),
    "recovery_days": st.sampled_from([6, 31, 0, -7, 10**30]),
    "min": st.sampled_from([-1, 1001, 10**20, 5000]),
    "max": st.sampled_from([0, 1001, -1, 10**20]),
    "cidr": _BAD_CIDRS, "pod_cidr": _BAD_CIDRS, "service_cidr": _BAD_CIDRS, "control_plane_cidr": _BAD_CIDRS,
    "kubernetes_version": st.sampled_from(["1.3", "2.31", "1.310", "v1.31", Plain("1.31"), Plain("1.30")]),
    "until": _BAD_DATES,
    "name": st.sampled_from(["", "a", "A-b", "x" * 41, "default", "kube-system", "-a", "a-", "system pool"]),
    "account_id": st.sampled_from(["12345678901", "1234567890123", "١٢٣٤٥٦٧٨٩٠١٢", Plain("123456789012"), ""]),
    "region": st.sampled_from(["", "US-EAST-1", "us_east_1", "us-east-", "x", "europe-west1\n", "us-east-1x", "eu-west-9",
                               "westeurope", "europe-west-1", "x" * 100_000]),
    "location": st.sampled_from(["", "West Europe", "west-europe", "westeurop", "us-east-1"]),
    "tenant_id": st.sampled_from(["", "not-a-uuid", "11111111-1111-1111-1111-11111111111"]),
    "role_arn": st.sampled_from(["arn:aws:iam::123:role/x", "arn:aws:iam::123456789012:user/x", ""]),
    "env": st.sampled_from(["", "1ABC", "A-B", "A B"]),
    "file": st.sampled_from(["", "/dev/zero"]),
    "size": st.sampled_from(["", "huge", "m6i", "Standard", "e2", "-x", "m6i.xlarge.x"]),
}


def _paths(data: Any, here: KeyPath = ()) -> list[KeyPath]:
    """Every path into ``data``, the root first."""
    found = [here]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*here, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*here, index))
    return found


def _replace(data: Any, path: KeyPath, value: Any) -> Any:
    if not path:
        return value
    copied = copy.copy(data)
    copied[path[0]] = _replace(data[path[0]], path[1:], value)
    return copied


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _remove(data: Any, path: KeyPath) -> Any:
    parent = _get(data, path[:-1])
    copied = copy.copy(parent)
    del copied[path[-1]]
    return _replace(data, path[:-1], copied)


@st.composite
def _wrong_type(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    path = draw(st.sampled_from(_paths(data)[1:]))
    return _replace(data, path, draw(_WRONG_TYPES))


@st.composite
def _out_of_range(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    candidates = [path for path in _paths(data) if path and path[-1] in OUT_OF_RANGE]
    path = draw(st.sampled_from(candidates))
    return _replace(data, path, draw(OUT_OF_RANGE[str(path[-1])]))


@st.composite
def _unknown_key(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    mappings = [path for path in _paths(data) if isinstance(_get(data, path), dict)]
    path = draw(st.sampled_from(mappings))
    key = draw(st.text(min_size=1, max_size=12) | st.integers() | st.sampled_from(["<<", "names ", "Name", "zone", "netwrok", "regoin"]))
    if key in _get(data, path):
        return data
    return _replace(data, path, {**_get(data, path), key: draw(_WRONG_TYPES)})


_REQUIRED = set.union(*(required_fields(model) for model in (Environment, *ACCOUNT_MODELS.values())))


@st.composite
def _missing(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """A field the spec requires, left out."""
    path = draw(st.sampled_from([path for path in _paths(data) if path and path[-1] in _REQUIRED]))
    return _remove(data, path)


@st.composite
def _overlapping_cidrs(draw: st.DrawFn, env: dict[str, Any]) -> dict[str, Any]:
    """A cluster range inside (or around) the network, or the network over a default cluster range."""
    # An existing network has no range of its own: the cluster's ranges then overlap one that could be its.
    network = IPv4Network(env["network"].get("cidr", "10.20.0.0/16"))
    cluster = dict(env.get("cluster") or {"node_pools": [{"name": "system"}]})
    field = draw(st.sampled_from(["pod_cidr", "service_cidr", "control_plane_cidr"]))
    prefix = 28 if field == "control_plane_cidr" else draw(st.integers(max(network.prefixlen - 4, 0), 28))
    if prefix >= network.prefixlen:
        inside = list(network.subnets(new_prefix=prefix)) if prefix - network.prefixlen <= 8 else [network]
        overlapping = draw(st.sampled_from(inside))
    else:
        overlapping = network.supernet(new_prefix=prefix)
    if draw(st.booleans()):
        return {**env, "cluster": {**cluster, field: str(overlapping)}}
    default = draw(st.sampled_from(["100.64.0.0/16", "172.20.0.0/16", "172.16.0.0/24", "100.64.0.0/10"]))
    return {**env, "cluster": cluster, "network": {**env["network"], "cidr": default}}


@st.composite
def _impossible_date(draw: st.DrawFn, env: dict[str, Any]) -> dict[str, Any]:
    rule = {"resource": "aws:ec2/vpc:Vpc", "property": "tags", "reason": "r", "until": draw(_BAD_DATES)}
    return {**env, "drift": {"ignore": [rule]}}


_HUGE = st.integers(100, 1_000)


@st.composite
def _huge_list(draw: st.DrawFn, env: dict[str, Any]) -> dict[str, Any]:
    """Hundreds or thousands of entries: repeated ones, more than a cloud takes, or drift rules by the page."""
    count = draw(_HUGE)
    field = draw(st.sampled_from(["names", "namespaces", "authorized_cidrs", "node_pools", "tags", "ignore"]))
    cluster = {"endpoint": "public", "authorized_cidrs": ["203.0.113.0/24"], "node_pools": [{"name": "system"}]}
    if field == "names":
        return {**env, "secrets": {"names": ["db-password"] * count}}
    if field == "namespaces":
        return {**env, "cluster": env.get("cluster", cluster), "kubernetes": {"namespaces": ["apps"] * count}}
    if field == "authorized_cidrs":
        cidrs = [str(IPv4Network((0xCB000000 + (index << 8), 24))) for index in range(count)]
        return {**env, "cluster": {**cluster, "authorized_cidrs": cidrs}}
    if field == "node_pools":
        return {**env, "cluster": {**cluster, "node_pools": [{"name": "system"}] * count}}
    if field == "tags":
        return {**env, "tags": {f"k{index}": "v" for index in range(count)}}
    rule = {"resource": "aws:ec2/vpc:Vpc", "property": "tags", "reason": "r"}
    return {**env, "drift": {"ignore": [rule] * count}}


_ENV_MUTATIONS: list[Callable[[dict[str, Any]], st.SearchStrategy[dict[str, Any]]]] = [
    _wrong_type, _out_of_range, _unknown_key, _missing, _overlapping_cidrs, _impossible_date, _huge_list,
]
_ACCOUNTS_MUTATIONS: list[Callable[[dict[str, Any]], st.SearchStrategy[dict[str, Any]]]] = [
    _wrong_type, _out_of_range, _unknown_key, _missing,
]


def environment_near_misses() -> st.SearchStrategy[bytes]:
    mutation = st.sampled_from(_ENV_MUTATIONS)
    return st.tuples(any_valid_environment(), mutation).flatmap(lambda pair: pair[1](pair[0])).map(dump)


def accounts_near_misses() -> st.SearchStrategy[bytes]:
    mutation = st.sampled_from(_ACCOUNTS_MUTATIONS)
    return st.tuples(valid_accounts(), mutation).flatmap(lambda pair: pair[1](pair[0])).map(dump)


# --- raw bytes -------------------------------------------------------------------------------

_YAML_ALPHABET = st.sampled_from(list(":-[]{}&*!|>'\"#%@`,?\n\t ab1.\\\x00\x85\u2028\ufeff"))


@st.composite
def _spliced(draw: st.DrawFn, valid: bytes) -> bytes:
    """``valid`` with a few bytes inserted, replaced or cut."""
    document = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(document)))
        chunk = draw(st.binary(min_size=1, max_size=8))
        if draw(st.booleans()):
            document[at:at] = chunk
        else:
            document[at : at + len(chunk)] = chunk
    return bytes(document)


@st.composite
def _reencoded(draw: st.DrawFn, valid: bytes) -> bytes:
    """``valid`` with a non-ASCII comment, saved in an encoding that is not UTF-8 (or with a BOM)."""
    text = "# café – ünïcode ✓\n" + valid.decode()
    encoding = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "utf-8-sig", "utf-7"]))
    return text.encode(encoding, errors="replace")


@st.composite
def _truncated(draw: st.DrawFn, valid: bytes) -> bytes:
    return valid[: draw(st.integers(0, len(valid)))]


_NESTED = st.tuples(st.sampled_from([("[", "]"), ("{a: ", "}"), ("- ", ""), ("[{a: ", "}]")]), st.integers(50, 1_500))


def _raw_bytes(valid: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=512),
        _NESTED.map(lambda pair: (pair[0][0] * pair[1] + "x" + pair[0][1] * pair[1]).encode()),
        st.text(_YAML_ALPHABET, max_size=80).map(lambda text: text.encode("utf-8", "surrogatepass")),
        valid.flatmap(_spliced),
        valid.flatmap(_reencoded),
        valid.flatmap(_truncated),
    )


def environment_raw_bytes() -> st.SearchStrategy[bytes]:
    return _raw_bytes(any_valid_environment().map(dump))


def accounts_raw_bytes() -> st.SearchStrategy[bytes]:
    return _raw_bytes(valid_accounts().map(dump))


# --- alias bombs ("billion laughs") ----------------------------------------------------------

_MARK = "fuzz-bomb-here"


@st.composite
def _bomb(draw: st.DrawFn) -> str:
    """A flow collection whose anchors expand to a billion nodes or more, or one that contains itself."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(["&r [*r]", "&r {k: *r}", "&r [a, [b, *r]]", "&r {name: *r, network: *r}"]))
    width, depth = draw(st.integers(8, 10)), draw(st.integers(9, 12))
    levels = [f"&l0 [{', '.join(['lol'] * width)}]"]
    levels += [f"&l{level} [{', '.join([f'*l{level - 1}'] * width)}]" for level in range(1, depth)]
    if draw(st.booleans()):
        return "[" + ", ".join(levels) + "]"
    return "{" + ", ".join(f"k{level}: {text}" for level, text in enumerate(levels)) + "}"


@st.composite
def _bombed(draw: st.DrawFn, data: dict[str, Any]) -> bytes:
    """``data`` with a bomb for a value, for a new key's value, or for a key."""
    bomb = draw(_bomb())
    where = "value" if draw(st.integers(0, 2)) else draw(st.sampled_from(["new key", "key"]))
    if where == "value":
        text = dump(_replace(data, draw(st.sampled_from(_paths(data)[1:])), _MARK)).decode()
        return text.replace(_MARK, bomb, 1).encode()
    mappings = [path for path in _paths(data) if isinstance(_get(data, path), dict)]
    path = draw(st.sampled_from(mappings))
    text = dump(_replace(data, path, {**_get(data, path), _MARK: "x"})).decode()
    entry = f"{bomb}: x" if where == "key" else f"{_MARK}: {bomb}"
    return text.replace(f"{_MARK}: x", entry, 1).encode()


def environment_alias_bombs() -> st.SearchStrategy[bytes]:
    return any_valid_environment().flatmap(_bombed)


def accounts_alias_bombs() -> st.SearchStrategy[bytes]:
    return valid_accounts().flatmap(_bombed)

