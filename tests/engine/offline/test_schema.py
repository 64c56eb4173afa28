"""The schema check of offline plans: what a provider would refuse is caught in ``terrane plan``.

Faults are injected into the sample environments' own programs (a stack transformation edits one
type of resource's inputs, by their Python names, as a component would have written them); each
must be caught, naming the resource and the property path. Every sample environment passes,
each of its custom resources checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime import rpc

from terrane.engine import wire
from terrane.engine.errors import ExitCode, SchemaError
from terrane.engine.offline import render, schema
from terrane.engine.project import open_project
from tests.helpers.project import REPO, SAMPLE_ENVIRONMENTS

Edit = Callable[[dict[str, Any]], None]
SAMPLES = [pytest.param(root, env, id=f"{root.name}/{env}") for root, env in SAMPLE_ENVIRONMENTS]


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Edit], None]:
    """Make every program ``terrane plan`` renders apply ``edit`` to the inputs of each resource of a type."""

    def inject(type_: str, edit: Edit) -> None:
        build = render.build_program

        def build_faulty(env: Any, account: Any) -> Callable[[], None]:
            program = build(env, account)

            def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
                if args.type_ != type_:
                    return None
                edit(args.props)
                return pulumi.ResourceTransformationResult(args.props, args.opts)

            def run() -> None:
                pulumi.runtime.register_stack_transformation(transformation)
                program()

            return run

        monkeypatch.setattr(render, "build_program", build_faulty)

    return inject


def _plan(env: str, root: Path = REPO) -> render.Plan:
    return render.plan(open_project(root), env)


def _set(path: str, value: Any) -> Edit:
    """An edit that sets the input at ``path`` (Python names, dotted; ``[i]`` indexes a list) to ``value``.

    A callable ``value`` is called for the value, in the program (as an ``Output`` must be made).
    """

    def step(target: Any, key: str) -> Any:
        if key.startswith("["):
            return target[int(key[1:-1])]
        return target[key] if isinstance(target, dict) else pulumi.get(target, key)

    def edit(props: dict[str, Any]) -> None:
        *parents, last = path.replace("[", ".[").split(".")
        target: Any = props
        for key in parents:
            target = step(target, key)
        new = value() if callable(value) else value
        if isinstance(target, dict):
            target[last] = new
        else:
            pulumi.set(target, last, new)

    return edit


def _rename(old: str, new: str) -> Edit:
    return lambda props: props.update({new: props.pop(old)})


def _remove(name: str) -> Edit:
    return lambda props: props.pop(name)


FAULTS = [
    pytest.param("aws-dev", "aws:ec2/vpc:Vpc", _set("enable_dns_hostnames", "true"),
                 "aws:ec2/vpc:Vpc aws-dev-vpc: inputs.enableDnsHostnames: expected bool, got string",
                 id="a bool given as a string"),
    pytest.param("aws-dev", "aws:ec2/vpc:Vpc", _rename("cidr_block", "cidr_blok"),
                 "aws:ec2/vpc:Vpc aws-dev-vpc: inputs.cidr_blok: unknown input: VpcArgs has no 'cidr_blok'; "
                 "did you mean cidrBlock?",
                 id="a misspelt input"),
    pytest.param("aws-dev", "aws:secretsmanager/secret:Secret", _set("recovery_window_in_days", "7"),
                 "aws:secretsmanager/secret:Secret aws-dev-db-password: inputs.recoveryWindowInDays: "
                 "expected int, got string",
                 id="an int given as a string"),
    pytest.param("aws-dev", "aws:eks/nodeGroup:NodeGroup", _set("scaling_config.desired_size", 1.5),
                 "aws:eks/nodeGroup:NodeGroup aws-dev-system: inputs.scalingConfig.desiredSize: "
                 "expected int, got number",
                 id="a fraction for an int, in a nested input type"),
    pytest.param("gcp-dev", "gcp:compute/routerNat:RouterNat",
                 _set("subnetworks[0].source_ip_ranges_to_nats", "ALL_IP_RANGES"),
                 "gcp:compute/routerNat:RouterNat gcp-dev-nat: inputs.subnetworks[0].sourceIpRangesToNats: "
                 "expected list, got string",
                 id="a wrong type in a list of nested input types"),
    pytest.param("aws-dev", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                 lambda props: [_set("port", True)(port) for rule in pulumi.get(props["spec"], "egress")
                                for port in pulumi.get(rule, "ports")],
                 "kubernetes:networking.k8s.io/v1:NetworkPolicy aws-dev-apps-allow-dns: "
                 "inputs.spec.egress[0].ports[1].port: expected int or string, got bool",
                 id="a type no member of a union admits, lists deep"),
    pytest.param("azure-dev", "azure-native:keyvault:Vault", _set("properties.sku.name", "Premium"),
                 'azure-native:keyvault:Vault azure-dev-vault: inputs.properties.sku.name: "Premium" is not a '
                 "valid SkuName: expected one of premium, standard",
                 id="an invalid enum value"),
    pytest.param("aws-dev", "aws:ec2/subnet:Subnet", _remove("vpc_id"),
                 "aws:ec2/subnet:Subnet aws-dev-private-0: inputs.vpcId: missing: SubnetArgs requires it",
                 id="a missing required input"),
    pytest.param("aws-dev", "pulumi:providers:aws",
                 _set("default_tags", aws.ProviderDefaultTagsArgs(tags={"team": 5})),
                 "pulumi:providers:aws aws-sandbox: inputs.defaultTags.tags.team: expected string, got int",
                 id="a provider's setting, which the SDK JSON-encodes"),
]


@pytest.mark.parametrize(("env", "type_", "edit", "expected"), FAULTS)
def test_a_fault_in_a_program_is_caught_naming_the_resource_and_the_path(
    faulty: Callable[[str, Edit], None], env: str, type_: str, edit: Edit, expected: str
) -> None:
    faulty(type_, edit)
    with pytest.raises(SchemaError) as caught:
        _plan(env)
    assert expected in caught.value.problems
    assert caught.value.exit_code == ExitCode.FAILURE


def test_terrane_plan_refuses_the_program_with_exit_code_1(faulty: Callable[[str, Edit], None], cli: Any) -> None:
    faulty("aws:ec2/vpc:Vpc", _set("tags.Name", 7))
    result = cli("--project", REPO, "plan", "aws-dev", "--json")
    assert (result.code, result.stdout) == (ExitCode.FAILURE, "")
    assert result.stderr.splitlines()[:2] == [
        "error: the program registers inputs its provider would refuse:",
        "error: aws:ec2/vpc:Vpc aws-dev-vpc: inputs.tags.Name: expected string, got int",
    ]
    assert "a defect in terrane" in result.stderr


def test_a_value_an_open_enum_does_not_know_is_a_warning_shown_once(
    faulty: Callable[[str, Edit], None], cli: Any
) -> None:
    # principalType is Union[str, PrincipalType]: Azure's API takes any string, the SDK knows some.
    faulty("azure-native:authorization:RoleAssignment", _set("principal_type", "Robot"))
    result = cli("--project", REPO, "plan", "azure-dev", "--json")
    assert result.code == ExitCode.OK
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: azure-native:authorization:RoleAssignment azure-dev-")
    assert ': inputs.principalType: "Robot" is not a known PrincipalType (' in warnings[0]
    assert warnings[0].endswith("the cloud may not (and 4 more of its type)")


def test_a_secret_is_checked_by_the_value_it_wraps_which_no_message_shows(
    faulty: Callable[[str, Edit], None]
) -> None:
    sentinel = "sentinel-sku-5c1e"
    faulty("azure-native:storage:StorageAccount", _set("access_tier", lambda: pulumi.Output.secret(sentinel)))
    with pytest.raises(SchemaError) as caught:
        _plan("azure-dev")
    assert caught.value.problems == [
        ("azure-native:storage:StorageAccount azure-dev-flow-logs: inputs.accessTier: [secret] is not a valid "
         "AccessTier: expected one of Cold, Cool, Hot, Premium")
    ]
    assert sentinel not in str(caught.value)


def _unknown() -> pulumi.Output[Any]:
    """A value known only at apply time, as a preview has it."""
    loop = asyncio.get_event_loop()
    value, known = loop.create_future(), loop.create_future()
    value.set_result(None)
    known.set_result(False)
    return pulumi.Output(set(), value, known)


@pytest.mark.parametrize("value", [lambda: pulumi.Output.secret(True), _unknown], ids=["secret", "unknown"])
def test_a_secret_or_unknown_value_of_the_right_type_passes(
    faulty: Callable[[str, Edit], None], value: Callable[[], pulumi.Output[Any]]
) -> None:
    faulty("aws:ec2/vpc:Vpc", _set("enable_dns_hostnames", value))
    assert _plan("aws-dev").schema_checked > 0


@pytest.fixture(scope="module")
def sample_plans() -> dict[str, render.Plan]:
    return {f"{root.name}/{env}": _plan(env, root) for root, env in SAMPLE_ENVIRONMENTS}


@pytest.mark.parametrize(("root", "env"), SAMPLES)
def test_every_sample_environment_passes_each_custom_resource_checked(
    sample_plans: dict[str, render.Plan], root: Path, env: str
) -> None:
    result = sample_plans[f"{root.name}/{env}"]
    assert result.warnings == ()
    assert result.schema_checked == sum(resource.custom for resource in result.resources) > 0


def test_every_cloud_has_a_sample_environment(sample_plans: dict[str, render.Plan]) -> None:
    assert {result.cloud for result in sample_plans.values()} == {"aws", "azure", "gcp", "kubernetes"}


# What the engine receives, checked directly: the wire's own forms of secrets and unknowns.
SECRET_TRUE = {wire.SIG_KEY: wire.SECRET_SIG, "value": True}


@pytest.mark.parametrize("value", [
    rpc.UNKNOWN,
    {wire.SIG_KEY: wire.OUTPUT_VALUE_SIG, "dependencies": []},
    {wire.SIG_KEY: wire.OUTPUT_VALUE_SIG, "value": True, "secret": True},
    SECRET_TRUE,
    None,
], ids=["unknown", "unknown output value", "secret output value", "secret", "null"])
def test_wire_forms_of_a_right_value_pass(value: Any) -> None:
    verdict = schema.check("aws:ec2/vpc:Vpc", "vpc", {"enableDnsHostnames": value})
    assert (verdict.checked, verdict.errors) == (True, ())


def test_wire_forms_of_a_wrong_value_are_caught_inside() -> None:
    inputs = {"tags": {wire.SIG_KEY: wire.SECRET_SIG, "value": {"Name": 1.0}},
              "cidrBlock": {wire.SIG_KEY: wire.OUTPUT_VALUE_SIG, "value": [], "secret": False}}
    assert [str(e) for e in schema.check("aws:ec2/vpc:Vpc", "vpc", inputs).errors] == [
        "aws:ec2/vpc:Vpc vpc: inputs.cidrBlock: expected string, got list",
        "aws:ec2/vpc:Vpc vpc: inputs.tags.Name: expected string, got int",
    ]


@pytest.mark.parametrize(("value", "errors"), [
    ("true", []),
    ({wire.SIG_KEY: wire.SECRET_SIG, "value": "false"}, []),
    ("maybe", ["pulumi:providers:aws p: inputs.skipCredentialsValidation: expected bool, got string"]),
])
def test_a_providers_settings_are_checked_as_the_json_they_encode(value: Any, errors: list[str]) -> None:
    verdict = schema.check("pulumi:providers:aws", "p", {"skipCredentialsValidation": value})
    assert [str(e) for e in verdict.errors] == errors


def test_what_is_not_checked_and_an_unknown_type() -> None:
    assert not schema.check("terrane:aws:Network", "net", {"anything": 1}, custom=False).checked
    assert not schema.check("nosuchsdk:index:Thing", "thing", {"anything": 1}).checked
    assert [str(e) for e in schema.check("aws:ec2/vpcc:Vpc", "vpc", {}).errors] == [
        "aws:ec2/vpcc:Vpc vpc: type: not a resource type of the installed SDK of 'aws'"
    ]
