"""The Python API: typed results and progress callbacks, against the stand-in Pulumi CLI."""

from __future__ import annotations

import pytest

from terrane import DriftReport, Engine, ExitCode, InvalidInputError, OperationResult, Progress, Remediation
from terrane.engine.drift.report import EnvironmentDrift
from terrane.engine.results import DriftOutcome
from tests.helpers.project import SampleProject
from tests.standin import StandIn


def test_preview_and_up_return_typed_results(sample: SampleProject, standin: StandIn) -> None:
    seen: list[Progress] = []
    engine = Engine(sample.root, on_progress=seen.append)
    [preview] = engine.preview("aws-dev")
    assert isinstance(preview, OperationResult)
    assert (preview.environment, preview.operation, preview.status) == ("aws-dev", "preview", "succeeded")
    assert preview.pending_changes and preview.changes["create"] >= 1
    [up] = engine.up("aws-dev")
    assert up.ok and up.changes["create"] == preview.changes["create"]
    assert {progress.phase for progress in seen} >= {"start", "done", "finished"}
    assert seen[-1] == Progress("aws-dev", "finished", message="succeeded")
    assert all(progress.environment == "aws-dev" for progress in seen)
    assert any(progress.name == "network" and progress.resource_type == "aws:ec2/vpc:Vpc" for progress in seen)


def test_choosing_environments(sample: SampleProject, standin: StandIn) -> None:
    engine = Engine(sample.root)
    assert [env.name for env in engine.environments(all=True)] == ["aws-dev", "azure-dev", "gcp-dev"]
    assert [env.name for env in engine.environments(["gcp-dev", "gcp-dev"])] == ["gcp-dev"]
    with pytest.raises(InvalidInputError, match="not both"):
        engine.environments(["aws-dev"], all=True)
    with pytest.raises(InvalidInputError, match="at least one"):
        engine.environments()
    with pytest.raises(InvalidInputError, match="--parallel"):
        engine.up("aws-dev", parallel=0)


def test_a_destroy_preview_of_a_protected_environment_is_refused_before_anything_runs(
        sample: SampleProject, standin: StandIn) -> None:
    sample.edit_env("aws-dev", lambda env: env.update(protect=True))
    engine = Engine(sample.root)
    for attempt in (lambda: engine.preview("aws-dev", destroy=True), lambda: engine.destroy("aws-dev")):
        with pytest.raises(InvalidInputError, match="protected"):
            attempt()
    assert standin.calls() == []


def test_progress_is_given_per_call_and_the_engines_own_callback_is_the_default(
        sample: SampleProject, standin: StandIn) -> None:
    default: list[Progress] = []
    given: list[Progress] = []
    engine = Engine(sample.root, on_progress=default.append)
    engine.preview("aws-dev", on_progress=given.append)
    assert given and not default
    engine.preview("aws-dev")
    assert default and default[-1] == Progress("aws-dev", "finished", message="succeeded")


@pytest.mark.parametrize("statuses, remediated, notified, found, code", [
    (("in_sync",), None, True, ExitCode.OK, ExitCode.OK),
    (("in_sync", "drifted"), None, True, ExitCode.CHANGES, ExitCode.CHANGES),
    (("drifted", "error"), None, True, ExitCode.FAILURE, ExitCode.FAILURE),
    (("drifted",), True, True, ExitCode.CHANGES, ExitCode.CHANGES),
    (("drifted",), False, True, ExitCode.FAILURE, ExitCode.FAILURE),
    (("in_sync",), None, False, ExitCode.OK, ExitCode.FAILURE),
    (("drifted",), None, False, ExitCode.CHANGES, ExitCode.FAILURE),
])
def test_a_drift_jobs_exit_code_is_what_it_found_unless_the_notification_failed(
        statuses: tuple[str, ...], remediated: bool | None, notified: bool, found: ExitCode, code: ExitCode) -> None:
    report = DriftReport("t0", "t1", tuple(EnvironmentDrift(f"env{index}", status)  # type: ignore[arg-type]
                                           for index, status in enumerate(statuses)),
                         notification_error=None if notified else "webhook said 500")
    remediation = None if remediated is None else Remediation(
        "up", (OperationResult("env0", "up", "succeeded" if remediated else "failed"),), protected=())
    outcome = DriftOutcome(report, remediation)
    assert (outcome.found, outcome.exit_code) == (found, code)


def test_the_drift_job_refuses_named_environments_with_all_before_anything_runs(
        sample: SampleProject, standin: StandIn) -> None:
    with pytest.raises(InvalidInputError, match="not both"):
        Engine(sample.root).drift_job("aws-dev", all=True)
    assert standin.calls() == []
