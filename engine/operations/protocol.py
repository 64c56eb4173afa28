"""The wire between the driver and its workers: the job a worker runs, and everything it says back.

The driver writes a worker one ``Job``, one line of JSON on its stdin. The
worker answers in lines of JSON on its stdout: a ``ResourceEvent`` or a
``Diagnostic`` as the engine reports them, then exactly one ``Outcome``, a
``Result`` or a ``Failure``. A fork server (``engine.operations.forkserver``) is
told a ``Preload`` first, then a ``Fork`` for each worker. Both ends build and
read only these types, through ``to_json`` and the ``*_from_json`` readers: a line that is not
one of them is refused whole, with a ``ProtocolError`` that names each field
that is wrong, and never quotes the line (a job carries the account's secrets).

An option the protocol does not know, or one its operation does not take, is
refused when the ``Options`` or the ``Job`` is built, before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from terrane.engine.accounts.secrets import MASK
from terrane.engine.drift.reconcile import Reconcile
from terrane.engine.drift.report import ResourceDrift
from terrane.engine.errors import EngineError
from terrane.engine.store.imports import Import

Operation = Literal["preview", "up", "refresh", "destroy", "drift", "outputs"]

READ_ONLY: tuple[Operation, ...] = ("outputs", "drift")
"""Operations that only read a stack: they never create one."""

TARGETED: tuple[Operation, ...] = ("preview", "up", "refresh", "destroy")
"""Operations that take targets: only the resources named change."""

# Every message is read as it is written: no unknown field, no value of another type taken for its own.
_STRICT = ConfigDict(extra="forbid", strict=True)


class ProtocolError(EngineError):
    """A message that is not one of the protocol's, or an option it does not know."""


@dataclass(frozen=True)
class Options:
    """How an operation runs, beyond which it is; each option is for the operations ``FOR`` names."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    refresh: bool = False
    """``up``: read the cloud into the state first."""
    clear_pending_creates: bool = False
    """``refresh``: drop from the state the creates a killed run left pending."""
    destroy: bool = False
    """``preview``: the preview of a ``destroy``."""
    accept_pending: bool = False
    """``up``: go ahead over the creates a killed run left pending, rather than stop."""
    target: tuple[str, ...] = ()
    """Only these resources (URNs the stack holds), as ``pulumi up --target``."""
    target_dependents: bool = False
    """With ``target``: the resources that depend on them too, as ``--target-dependents``."""

    FOR: ClassVar[Mapping[str, tuple[Operation, ...]]] = {
        "refresh": ("up",), "clear_pending_creates": ("refresh",), "destroy": ("preview",), "accept_pending": ("up",),
        "target": TARGETED, "target_dependents": TARGETED}

    @classmethod
    def of(cls, given: Mapping[str, Any]) -> Options:
        """The options ``given`` by name; a name that is not an option is refused."""
        known = [option.name for option in fields(cls)]
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ProtocolError(f"unknown option {', '.join(unknown)}: expected one of {', '.join(known)}")
        return cls(**given)

    def check(self, operation: Operation) -> None:
        """Refuse an option set that ``operation`` does not take."""
        stray = [option.name for option in fields(self)
                 if getattr(self, option.name) and operation not in self.FOR[option.name]]
        if stray:
            raise ProtocolError(f"{operation} takes no option {', '.join(stray)}")
        if self.target_dependents and not self.target:
            raise ProtocolError("target_dependents takes a target")

    def targeting(self) -> dict[str, Any]:
        """``target`` and ``target_dependents`` as the Automation API's keyword arguments; none when not targeted."""
        return {"target": list(self.target), "target_dependents": self.target_dependents} if self.target else {}


@dataclass(frozen=True)
class Setting:
    """One key of the account's provider config, resolved: a secret in plain, which only the stack's config keeps."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    value: str
    secret: bool

    def __repr__(self) -> str:
        return f"Setting({MASK if self.secret else repr(self.value)}, secret={self.secret})"


@dataclass(frozen=True)
class Job:
    """One operation on one environment's stack: all a worker needs that its allow-listed environment does not hold."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    project: str
    """The project directory."""
    environment: str
    operation: Operation
    program: str
    """The program factory, ``package.module:factory`` (``engine.operations.programs``)."""
    config: Mapping[str, Setting] | None
    """The account's provider config; None: the environment has no stack (nothing to read, no credentials)."""
    config_digest: str | None = None
    """The config's digest on the stack (``engine.operations.workspace.config_digest``)."""
    options: Options = Options()
    imports: tuple[Import, ...] = ()
    """The resources a ``preview`` or an ``up`` adopts (``engine.store.imports``)."""
    reconcile: Reconcile = field(default_factory=Reconcile)
    """The Kubernetes objects an ``up`` marks or replaces (``engine.drift.reconcile``)."""
    pulumi_root: str | None = None
    secrets_provider: str = "passphrase"

    def __post_init__(self) -> None:
        self.options.check(self.operation)

    @property
    def no_stack(self) -> bool:
        return self.config is None


@dataclass(frozen=True)
class ResourceEvent:
    """A resource's step started, done or failed; ``op`` is the step (``refresh`` while a drift check reads it)."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    phase: Literal["start", "done", "failed"]
    op: str
    urn: str
    resource_type: str
    type: Literal["event"] = "event"


@dataclass(frozen=True)
class Diagnostic:
    """An error or a warning of the engine, condensed to what a reader needs."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    severity: Literal["error", "warning"]
    urn: str | None
    message: str
    type: Literal["diagnostic"] = "diagnostic"


@dataclass(frozen=True)
class StackOutput:
    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    value: Any
    secret: bool

    def shown(self, show_secrets: bool = False) -> Any:
        return MASK if self.secret and not show_secrets else self.value


@dataclass(frozen=True)
class PlannedStep:
    """What a preview found an update (or a destroy) would do to one resource."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    urn: str
    type: str
    op: Literal["create", "update", "replace", "delete", "import"]
    paths: tuple[str, ...] = ()
    """The property paths that change (the engine's detailed diff), for an update or a replacement."""
    replace_keys: tuple[str, ...] = ()
    """The properties that force a replacement; on an import, those that would replace the adopted object."""
    replaces_id: str | None = None
    """On an import: the id of the object the stack has already under that name, which the import would replace."""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "op": self.op, "paths": list(self.paths),
                "replace_keys": list(self.replace_keys), "replaces_id": self.replaces_id}


@dataclass(frozen=True)
class Update:
    """The update an up, refresh or destroy made, as its stack's history records it (Pulumi's update summary)."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    kind: str
    result: str
    by: str | None = None
    """The git author of the checkout that ran it, as Pulumi records it; None when not in git."""
    started: str | None = None
    finished: str | None = None

    @classmethod
    def of(cls, summary: Any) -> Update:
        """What Pulumi's update summary (``UpResult.summary``: its history's newest entry) says of the update."""
        environment = summary.environment or {}

        def iso(moment: datetime | None) -> str | None:  # the summary's times are naive, in UTC
            return moment.replace(tzinfo=UTC).isoformat() if moment else None

        return cls(kind=str(summary.kind), result=str(summary.result),
                   by=environment.get("git.author") or environment.get("git.committer"),
                   started=iso(summary.start_time), finished=iso(summary.end_time))


@dataclass(frozen=True)
class Result:
    """The operation succeeded: what it changed, would change, found drifted, or the stack's outputs."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    changes: Mapping[str, int] = field(default_factory=dict)
    outputs: Mapping[str, StackOutput] = field(default_factory=dict)
    """Secret outputs as secrets: the driver's caller decides what to show."""
    planned: tuple[PlannedStep, ...] = ()
    drift: tuple[ResourceDrift, ...] = ()
    duration: float | None = None
    """The operation's own time, without the worker's start; None: the driver measures it."""
    deployed: bool = True
    """False: the environment has no stack, so a drift check found nothing to check."""
    update: Update | None = None
    """The update it made (up, refresh, destroy), for the shared store's record of it."""
    type: Literal["result"] = "result"


@dataclass(frozen=True)
class Failure:
    """The operation did not succeed: ``invalid`` input, a ``locked`` stack, ``cancelled``, or ``failed``."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    kind: Literal["invalid", "locked", "cancelled", "failed"]
    message: str
    type: Literal["error"] = "error"


Outcome = Result | Failure
Message = ResourceEvent | Diagnostic | Result | Failure


@dataclass(frozen=True)
class Preload:
    """The driver's first message to a fork server: what it imports once for every worker beside what it imports
    as it starts, from which project, and which CLI it asks ``pulumi version`` once (``engine.operations.forkserver``).
    """

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    modules: tuple[str, ...]
    pulumi_root: str | None
    project_root: str


@dataclass(frozen=True)
class Fork:
    """A worker for the fork server to fork, with exactly ``environ``, in ``cwd``; its pipes travel beside the
    message, as file descriptors."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    environ: Mapping[str, str]
    cwd: str


_T = TypeVar("_T")
_JOB = TypeAdapter(Job)
_MESSAGE: TypeAdapter[Message] = TypeAdapter(Annotated[Message, Field(discriminator="type")])
_PRELOAD = TypeAdapter(Preload)
_FORK = TypeAdapter(Fork)
_ADAPTERS: dict[type, TypeAdapter[Any]] = {Job: _JOB, Preload: _PRELOAD, Fork: _FORK}


def to_json(item: Job | Message | Preload | Fork) -> str:
    """``item`` as one line of JSON; an output value JSON cannot hold is sent as its ``str``."""
    adapter: TypeAdapter[Any] = _ADAPTERS.get(type(item), _MESSAGE)
    return adapter.dump_json(item, fallback=str).decode()


def job_from_json(line: str | bytes) -> Job:
    return _read(_JOB, line, "a job")


def message_from_json(line: str | bytes) -> Message:
    return _read(_MESSAGE, line, "a worker's message")


def preload_from_json(line: str | bytes) -> Preload:
    return _read(_PRELOAD, line, "a fork server's preload")


def fork_from_json(line: str | bytes) -> Fork:
    return _read(_FORK, line, "a fork server's fork")


def _read(adapter: TypeAdapter[_T], line: str | bytes, what: str) -> _T:
    try:
        return adapter.validate_json(line)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, error['loc'])) or 'the line'}: {error['msg']}"
                             for error in exc.errors(include_url=False, include_input=False))
        raise ProtocolError(f"{what} that does not read: {problems}") from None
