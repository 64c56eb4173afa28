"""The wire between the driver and its workers: every message reads back as it was written, and nothing else reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terrane.engine.drift.reconcile import Reconcile
from terrane.engine.drift.report import PropertyDrift, ResourceDrift
from terrane.engine.operations.driver import Driver, Progress
from terrane.engine.operations.protocol import (
    Diagnostic,
    Failure,
    Fork,
    Job,
    Operation,
    Options,
    PlannedStep,
    Preload,
    ProtocolError,
    ResourceEvent,
    Result,
    Setting,
    StackOutput,
    fork_from_json,
    job_from_json,
    message_from_json,
    preload_from_json,
    to_json,
)
from terrane.engine.project import open_project
from terrane.engine.store.imports import Import
from tests.helpers.project import SampleProject

SECRET = "s3cr3t-7f2a"
OPERATIONS: tuple[Operation, ...] = ("preview", "up", "refresh", "destroy", "drift", "outputs")

texts = st.text(max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3), max_leaves=6)


def _tuples(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(elements, max_size=3).map(tuple)


# An option's values, when it is not a flag.
_VALUES: dict[str, st.SearchStrategy[Any]] = {"target": st.lists(texts, min_size=1, max_size=3).map(tuple)}


def _options(operation: Operation) -> st.SearchStrategy[Options]:
    """Options that ``operation`` takes, each set or not (``target_dependents`` only beside a target)."""
    fitting = {name: _VALUES.get(name, st.booleans()) for name, operations in Options.FOR.items()
               if operation in operations}
    return (st.fixed_dictionaries({}, optional=fitting)
            .filter(lambda given: "target" in given or not given.get("target_dependents")).map(Options.of))


def _job(operation: Operation) -> st.SearchStrategy[Job]:
    return st.builds(
        Job, texts, texts, st.just(operation), texts,
        st.none() | st.dictionaries(texts, st.builds(Setting, texts, st.booleans()), max_size=3),
        st.none() | texts, _options(operation), _tuples(st.builds(Import, texts, texts, texts, texts)),
        st.builds(Reconcile, _tuples(st.tuples(texts, texts)), _tuples(texts)), st.none() | texts, texts)


drifts = st.builds(ResourceDrift, texts, texts, st.sampled_from(["update", "delete"]),
                   _tuples(st.builds(PropertyDrift, texts, st.sampled_from(["update", "add", "delete"]), json_values,
                                     json_values)),
                   st.none() | texts, _tuples(texts))
results = st.builds(
    Result, st.dictionaries(texts, st.integers(0, 10**6), max_size=3),
    st.dictionaries(texts, st.builds(StackOutput, json_values, st.booleans()), max_size=3),
    _tuples(st.builds(PlannedStep, texts, texts, st.sampled_from(["create", "update", "replace", "delete", "import"]),
                      _tuples(texts), _tuples(texts), st.none() | texts)),
    _tuples(drifts), st.none() | st.floats(0, 10**5), st.booleans())
messages = (st.builds(ResourceEvent, st.sampled_from(["start", "done", "failed"]), texts, texts, texts)
            | st.builds(Diagnostic, st.sampled_from(["error", "warning"]), st.none() | texts, texts)
            | results
            | st.builds(Failure, st.sampled_from(["invalid", "locked", "cancelled", "failed"]), texts))


@given(st.sampled_from(OPERATIONS).flatmap(_job))
def test_a_job_reads_back_as_it_was_sent(job: Job) -> None:
    line = to_json(job)
    assert "\n" not in line
    assert job_from_json(line) == job


@given(messages)
def test_every_message_reads_back_as_it_was_sent(message: Any) -> None:
    line = to_json(message)
    assert "\n" not in line
    assert message_from_json(line) == message


@given(st.builds(Preload, _tuples(texts), st.none() | texts, texts), st.builds(Fork, st.dictionaries(texts, texts), texts))
def test_what_a_fork_server_is_told_reads_back_as_it_was_sent(preload: Preload, fork: Fork) -> None:
    assert preload_from_json(to_json(preload).encode()) == preload
    assert fork_from_json(to_json(fork).encode()) == fork
    with pytest.raises(ProtocolError, match="^a fork server's fork that does not read: env: Unexpected keyword"):
        fork_from_json(b'{"env": {}, "environ": {}, "cwd": "/"}')


def test_an_unknown_option_is_refused_when_the_options_are_built() -> None:
    with pytest.raises(ProtocolError, match="unknown option refrsh: expected one of refresh, "):
        Options.of({"refrsh": True})
    with pytest.raises(TypeError, match="refrsh"):
        Options(refrsh=True)  # type: ignore[call-arg]


def test_an_option_is_refused_for_an_operation_that_does_not_take_it() -> None:
    with pytest.raises(ProtocolError, match="destroy takes no option refresh"):
        Job("/project", "dev", "destroy", "m:f", {}, options=Options(refresh=True))
    assert Job("/project", "dev", "up", "m:f", {}, options=Options(refresh=True, accept_pending=True)).options.refresh


def _job_line(**changes: Any) -> str:
    data = json.loads(to_json(Job("/project", "dev", "up", "m:f", {"aws:secretKey": Setting(SECRET, True)})))
    return json.dumps({**data, **changes})


@pytest.mark.parametrize(("line", "problem"), [
    ("not json", "the line: Invalid JSON"),
    ("", "the line: Invalid JSON: EOF"),
    ("[]", "the line: Input should be an object"),
    (_job_line(operation="deploy"), "operation: Input should be 'preview', 'up', "),
    (_job_line(options={"refrsh": True}), "options.refrsh: Unexpected keyword argument"),
    (_job_line(config={"aws:secretKey": {"value": SECRET, "secret": "yes"}}), "config.aws:secretKey.secret: "),
    (_job_line(environment=None), "environment: Input should be a valid string"),
])
def test_a_job_that_does_not_read_is_refused_naming_the_field_never_the_secret(line: str, problem: str) -> None:
    with pytest.raises(ProtocolError, match="^a job that does not read: ") as refused:
        job_from_json(line)
    assert problem in str(refused.value)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(("line", "problem"), [
    ('{"type": "progress"}', "Input tag 'progress' found using 'type' does not match any of the expected tags"),
    ('{"kind": "failed", "message": "boom"}', "Unable to extract tag using discriminator 'type'"),
    ('{"type": "error", "kind": "broken", "message": "boom"}', "error.kind: Input should be 'invalid', "),
    ('{"type": "event", "phase": "start", "op": "create", "urn": "u"}', "event.resource_type: Field required"),
    ('{"type": "result", "changes": {"create": "1"}}', "result.changes.create: Input should be a valid integer"),
    ('{"type": "diagnostic", "severity": "error", "urn": null, "message": "m", "extra": 1}',
     "diagnostic.extra: Unexpected keyword argument"),
])
def test_a_message_that_does_not_read_is_refused_naming_the_field(line: str, problem: str) -> None:
    with pytest.raises(ProtocolError, match="^a worker's message that does not read: ") as refused:
        message_from_json(line)
    assert problem in str(refused.value)


def test_a_job_shows_no_secret_but_carries_it() -> None:
    job = Job("/project", "dev", "up", "m:f", {"aws:secretKey": Setting(SECRET, True), "aws:region": Setting("r", False)})
    assert SECRET not in repr(job) and "[secret]" in repr(job) and "'r'" in repr(job)
    assert job_from_json(to_json(job)).config == {"aws:secretKey": Setting(SECRET, True),
                                                  "aws:region": Setting("r", False)}


def test_a_worker_line_that_does_not_read_fails_the_environment(sample: SampleProject) -> None:
    seen: list[Progress] = []
    driver = Driver(open_project(sample.root), seen.append)
    lines = [to_json(ResourceEvent("start", "create", "urn:pulumi:dev::p::t::vpc", "t")) + "\n", "half a line\n",
             to_json(Result(changes={"create": 1})) + "\n"]
    outcome = driver._listen("dev", lines)
    assert isinstance(outcome, Failure) and outcome.kind == "failed"
    assert outcome.message.startswith("a worker's message that does not read: the line: Invalid JSON")
    assert [progress.name for progress in seen] == ["vpc"]
    assert driver._listen("dev", lines[::2]) == Result(changes={"create": 1})
