"""The Python API: typed results and progress callbacks, against the stand-in Pulumi CLI."""

from __future__ import annotations

import pytest

from terrane import Engine, InvalidInputError, OperationResult, Progress
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
