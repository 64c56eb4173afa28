"""``--target URN|NAME`` on preview, up, refresh and destroy, against the stand-in Pulumi CLI.

The stand-in records each call's arguments: these tests prove which targets reach Pulumi, and that a target
that names nothing (or several resources) is refused before anything runs. What a targeted run changes in a
cloud, and a targeted destroy (which the stand-in does not play), are proven on the real CLI
(tests/real_engine/test_targets.py).
"""

from __future__ import annotations

import json

import pytest

from terrane.engine.operations.protocol import Job, Options, ProtocolError, job_from_json, to_json
from tests.helpers.project import SampleProject
from tests.standin import StandIn

NETWORK = "urn:pulumi:aws-dev::terrane::aws:ec2/vpc:Vpc::network"
BUCKET = "urn:pulumi:aws-dev::terrane::aws:s3/bucket:Bucket::bucket"


@pytest.fixture
def aws_dev(standin: StandIn, cli) -> StandIn:
    """aws-dev deployed with the stand-in's two resources, network and bucket."""
    assert cli("up", "aws-dev", "--yes").code == 0
    return standin


def _targets(call: dict) -> list[str]:
    argv = call["argv"]
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--target"]


@pytest.mark.parametrize("operation", ["preview", "up", "refresh"])
def test_a_name_reaches_pulumi_as_the_urn_it_names(aws_dev: StandIn, cli, operation: str) -> None:
    done = cli(operation, "aws-dev", *(("--yes",) if operation == "up" else ()), "--target", "network")
    assert done.code == 0, done.stderr
    call = aws_dev.calls_of(operation)[-1]
    assert _targets(call) == [NETWORK]
    assert "--target-dependents" not in call["argv"]


def test_urns_and_names_repeat_and_take_their_dependents(aws_dev: StandIn, cli) -> None:
    done = cli("up", "aws-dev", "--yes", "--target", BUCKET, "--target", "network", "--target", "bucket",
               "--target-dependents")
    assert done.code == 0, done.stderr
    call = aws_dev.calls_of("up")[-1]
    assert _targets(call) == [BUCKET, NETWORK]  # in the order given, each once
    assert "--target-dependents" in call["argv"]


def test_the_preview_before_asking_is_targeted_too(aws_dev: StandIn, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("click.confirm", lambda *args, **kwargs: False)
    declined = cli("up", "aws-dev", "--target", "bucket")
    assert declined.code == 1 and "aborted: nothing was changed" in declined.stderr
    [preview] = aws_dev.calls_of("preview")
    assert _targets(preview) == [BUCKET]
    assert len(aws_dev.calls_of("up")) == 1  # the fixture's


@pytest.mark.parametrize("target", ["nosuch", "urn:pulumi:aws-dev::terrane::aws:ec2/vpc:Vpc::nosuch"])
def test_a_target_the_stack_does_not_hold_is_refused_before_anything_runs(aws_dev: StandIn, cli, target: str) -> None:
    before = len(aws_dev.calls())
    done = cli("up", "aws-dev", "--yes", "--target", "network", "--target", target)
    assert done.code == 3
    assert done.stderr.splitlines()[0] == (
        f"error: --target {target}: aws-dev's stack holds no such resource (terrane state aws-dev list shows what it "
        f"holds)")
    assert [call["command"] for call in aws_dev.calls()[before:]] == ["stack export"]  # read, nothing run


def test_a_urn_of_another_stack_is_named_so(aws_dev: StandIn, cli) -> None:
    done = cli("preview", "aws-dev", "--target", "urn:pulumi:gcp-dev::terrane::aws:ec2/vpc:Vpc::network")
    assert done.code == 3
    assert "not a URN of aws-dev's stack, whose URNs start with urn:pulumi:aws-dev::" in done.stderr


def test_a_name_several_resources_share_is_refused_listing_them(standin: StandIn, cli) -> None:
    subnet = "urn:pulumi:aws-dev::terrane::aws:ec2/subnet:Subnet::main"
    standin.scenario("aws-dev", resources=[{"type": "aws:ec2/vpc:Vpc", "name": "main"},
                                           {"type": "aws:ec2/subnet:Subnet", "name": "main"}])
    assert cli("up", "aws-dev", "--yes").code == 0
    done = cli("up", "aws-dev", "--yes", "--target", "main")
    assert done.code == 3
    assert done.stderr.splitlines()[0] == (
        "error: --target main names 2 resources of aws-dev: aws:ec2/vpc:Vpc::main, aws:ec2/subnet:Subnet::main; "
        "target the one you mean as written here")
    assert len(standin.calls_of("up")) == 1  # the first up's
    for target in ("aws:ec2/subnet:Subnet::main", subnet):
        assert cli("up", "aws-dev", "--yes", "--target", target).code == 0
        assert _targets(standin.calls_of("up")[-1]) == [subnet]


def test_a_target_on_a_stack_not_made_yet_is_refused_and_makes_nothing(sample: SampleProject, standin: StandIn,
                                                                       cli) -> None:
    done = cli("up", "aws-dev", "--yes", "--target", "network")
    assert done.code == 3
    assert "--target: aws-dev has no stack yet, so no resource to target; run terrane up aws-dev first" in done.stderr
    assert not standin.calls() and not (sample.root / "Pulumi.aws-dev.yaml").exists()
    assert not (sample.root / ".terrane" / "state").exists()


@pytest.mark.parametrize("environments", [("aws-dev", "gcp-dev"), ("--all",)])
def test_a_target_names_resources_of_exactly_one_environment(aws_dev: StandIn, cli, environments) -> None:
    done = cli("preview", *environments, "--target", "network")
    assert done.code == 3
    assert "--target names resources of one stack: name exactly one environment, not several or --all" in done.stderr
    assert not aws_dev.calls_of("preview")


def test_target_dependents_needs_a_target(aws_dev: StandIn, cli) -> None:
    done = cli("up", "aws-dev", "--yes", "--target-dependents")
    assert done.code == 3 and "--target-dependents goes with --target" in done.stderr
    assert len(aws_dev.calls_of("up")) == 1  # the fixture's


def test_the_job_carries_its_targets_and_refuses_them_where_they_do_not_belong() -> None:
    options = Options.of({"target": (NETWORK,), "target_dependents": True})
    job = Job("/p", "aws-dev", "destroy", "m:f", {}, options=options)
    assert job_from_json(to_json(job)).options == options
    for operation in ("outputs", "drift"):
        with pytest.raises(ProtocolError, match=f"{operation} takes no option target, target_dependents"):
            Job("/p", "aws-dev", operation, "m:f", {}, options=options)
    with pytest.raises(ProtocolError, match="target_dependents takes a target"):
        Options(target_dependents=True).check("up")


def test_an_up_adopts_an_import_plan_whole_so_targets_wait_for_it(sample: SampleProject, aws_dev: StandIn,
                                                                  cli) -> None:
    plan = {"schema_version": 1, "environment": "aws-dev", "source": "ids.yaml",
            "imports": [{"type": "aws:s3/bucket:Bucket", "name": "logs", "id": "acme-logs", "source": "ids.yaml: entry 1"}]}
    (sample.root / "imports").mkdir()
    (sample.root / "imports" / "aws-dev.json").write_text(json.dumps(plan))
    for operation in ("preview", "up"):
        done = cli(operation, "aws-dev", *(("--yes",) if operation == "up" else ()), "--target", "network")
        assert done.code == 3
        assert done.stderr.splitlines()[0] == (
            "error: --target: aws-dev has an import plan, imports/aws-dev.json, that an up adopts whole: run terrane "
            "up aws-dev without --target first")
    assert len(aws_dev.calls_of("up")) == 1 and not aws_dev.calls_of("preview")  # the fixture's up alone
    assert (sample.root / "imports" / "aws-dev.json").exists()
    assert cli("refresh", "aws-dev", "--target", "network").code == 0  # a refresh adopts nothing
