"""A terrane project on disk: where it is, and its validated accounts and environments.

Every problem in a project file becomes a ``SpecError`` whose lines name the
file and the field path, and never repeat a value that may be a secret. A file
is checked whole: its problems are reported together, not one per attempt.
Opening a project reads ``Pulumi.yaml``, so that no command runs, or writes
anything, in a directory without a sound one.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from terrane.engine.errors import InvalidInputError, SpecError
from terrane.engine.files import RefusedFileError, read_regular
from terrane.engine.strict_yaml import parse_yaml, written_as
from terrane.engine.tfstate import read_state
from terrane.stacks import rules
from terrane.stacks.spec import did_you_mean, matching, meant
from terrane.stacks.spec.accounts import ACCOUNT_MODELS, Account, AccountName, CloudAccount
from terrane.stacks.spec.environments import Environment
from terrane.stacks.spec.problems import Written, misspelt, unknown_field, validation_problems
from terrane.stacks.spec.registries import REGISTRY_MODELS, Registry
from terrane.stacks.spec.terraform_state import LocalState

ACCOUNTS_FILE = "accounts.yaml"
ENVIRONMENTS_DIR = "environments"
PULUMI_FILE = "Pulumi.yaml"
PROJECT_ENV_VAR = "TERRANE_PROJECT"
# An environment's file: environments/NAME.yaml, or .yml.
ENVIRONMENT_SUFFIXES = (".yaml", ".yml")
PROJECT_FILE_LIMIT = 1 << 20
"""The largest project file terrane reads (Pulumi.yaml, accounts.yaml, an environment, an ids file): 1 MiB."""

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def open_project(path: str | os.PathLike[str] | None = None) -> Project:
    """The project at ``path``, else at ``$TERRANE_PROJECT``, else the current directory."""
    root = Path(path or os.environ.get(PROJECT_ENV_VAR) or Path.cwd()).expanduser()
    if not root.is_dir():
        raise InvalidInputError(f"project directory {root} does not exist")
    if not (root / ACCOUNTS_FILE).is_file() and not (root / ENVIRONMENTS_DIR).is_dir():
        raise InvalidInputError(
            f"{root} is not a terrane project (no {ACCOUNTS_FILE} or {ENVIRONMENTS_DIR}/); "
            f"run terrane there or pass --project DIR"
        )
    project = Project(root.resolve())
    project.pulumi_project  # noqa: B018 - read now: without a sound Pulumi.yaml nothing may run or be written
    return project


class _PulumiSettings(BaseModel):
    """What terrane needs of Pulumi.yaml; the rest of the file is Pulumi's."""

    model_config = ConfigDict(extra="allow")

    name: Annotated[
        str,
        matching(r"[A-Za-z0-9_.-]{1,100}",
                 "must be a Pulumi project name: 1 to 100 letters, digits, '-', '_' or '.'"),
    ]
    runtime: Any


@dataclass(frozen=True)
class Project:
    root: Path

    @cached_property
    def pulumi_project(self) -> str:
        """The Pulumi project name from Pulumi.yaml: it is part of every URN."""
        path = self.root / PULUMI_FILE
        if not os.path.lexists(path):
            raise InvalidInputError(
                f"{self.root}: no {PULUMI_FILE}; a terrane project has {PULUMI_FILE}, {ACCOUNTS_FILE} "
                f"and {ENVIRONMENTS_DIR}/",
                hint=f"run 'terrane init' in a new directory and copy its {PULUMI_FILE} here",
            )
        return _validate(_PulumiSettings, read_yaml(path, PULUMI_FILE), PULUMI_FILE).name

    def environment_names(self) -> list[str]:
        """Every environment with a file in environments/, readable or not: a broken one is reported, not skipped."""
        directory = self.root / ENVIRONMENTS_DIR
        if not directory.is_dir():
            return []
        return sorted({path.stem for suffix in ENVIRONMENT_SUFFIXES for path in directory.glob(f"*{suffix}")})

    def environment_file(self, name: str) -> str:
        """The file of environment ``name``, relative to the project: environments/NAME.yaml (or .yml)."""
        found = [
            f"{ENVIRONMENTS_DIR}/{name}{suffix}"
            for suffix in ENVIRONMENT_SUFFIXES
            if "/" not in name and os.path.lexists(self.root / ENVIRONMENTS_DIR / f"{name}{suffix}")
        ]
        if not found:
            raise InvalidInputError(self._unknown_environment(name))
        if len(found) > 1:
            raise InvalidInputError(f"{' and '.join(found)} both describe environment '{name}': keep one of them")
        return found[0]

    def _unknown_environment(self, name: str) -> str:
        """Why ``name`` names no environment: the name it may mean (a file's path or a typo), and those there are."""
        known = self.environment_names()
        stem = _stem(name)
        if stem != name and stem in known:
            return f"unknown environment '{name}': an environment is named by its file's stem; did you mean {stem}?"
        guess = did_you_mean(stem.lower(), known)  # environment names are lower case
        return (f"unknown environment '{name}': there is no {ENVIRONMENTS_DIR}/{stem}.yaml{'; ' if guess else ''}"
                f"{guess} (known: {', '.join(known) or 'none'})")

    @cached_property
    def _linked(self) -> LinkedFile:
        """accounts.yaml, read and validated once for both its sections."""
        path = self.root / ACCOUNTS_FILE
        if not os.path.lexists(path):  # anything else there is read, or refused, as accounts.yaml
            return LinkedFile({}, {})
        text = read_text(path, ACCOUNTS_FILE)
        return parse_linked(parse_yaml(text, ACCOUNTS_FILE), written=written_as(text))

    @property
    def accounts(self) -> dict[str, Account]:
        return self._linked.accounts

    @property
    def registries(self) -> dict[str, Registry]:
        return self._linked.registries

    def reload_accounts(self) -> None:
        """``accounts.yaml`` changed on disk: read it again when ``accounts`` or ``registries`` is next asked for."""
        self.__dict__.pop("_linked", None)

    def environment(self, name: str) -> Environment:
        """Load and fully validate one environment, including its account and cloud rules."""
        relative = self.environment_file(name)
        text = read_text(self.root / relative, relative)
        raw = parse_yaml(text, relative)
        problems: list[str] = []
        invalid: frozenset[str] = frozenset()
        try:
            env = Environment.model_validate(raw)
        except ValidationError as exc:
            problems += _problems(exc, relative, Environment, written_as(text))
            env, invalid = _valid_part(raw, exc)
        if "name" not in invalid and env.name != name:
            problems.append(f"{relative}: name: '{env.name}' must equal the file name '{name}'")
        if "account" not in invalid:
            account = self.accounts.get(env.account)
            if account is None:
                known = ", ".join(self.accounts) or "none; link one with: terrane accounts link"
                problems.append(f"{relative}: account: unknown account '{env.account}' ({ACCOUNTS_FILE} has: {known})")
            else:
                problems += [f"{relative}: {p.path}: {p.message}" for p in rules.check(env, account, invalid=invalid)]
                if "cluster" not in invalid:
                    problems += [f"{relative}: {problem}" for problem in self._registry_problems(env, account)]
                if "network" not in invalid:
                    problems += [f"{relative}: {problem}"
                                 for problem in _state_problems(env.in_project(self.root, relative), account)]
        if problems:
            raise SpecError(problems)
        return env.with_registries(self.registries).in_project(self.root, relative)

    def _registry_problems(self, env: Environment, account: Account) -> list[str]:
        named = env.cluster.registries if env.cluster else []
        problems = []
        for index, name in enumerate(named):
            registry = self.registries.get(name)
            where = f"cluster.registries[{index}]"
            if registry is None:
                known = ", ".join(self.registries) or "none; link one with: terrane accounts link ecr|acr|artifact-registry"
                problems.append(f"{where}: unknown registry '{name}' ({ACCOUNTS_FILE} registries: {known})")
            elif registry.cloud != account.cloud:
                problems.append(f"{where}: registry '{name}' is on {registry.cloud}; a cluster on {account.cloud} "
                                f"pulls only from {account.cloud} registries")
        return problems

    def account_for(self, env: Environment) -> Account:
        return self.accounts[env.account]


def _stem(name: str) -> str:
    """An environment's name as a user may have typed it, a path to its file (environments/aws-dev.yaml), as the name."""
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return next((base.removesuffix(suffix) for suffix in ENVIRONMENT_SUFFIXES if base.endswith(suffix)), base)


def _state_problems(env: Environment, account: Account) -> list[str]:
    """The local Terraform state an existing network comes from, read before anything runs: it holds what the spec
    maps (``stacks.rules`` words it, as the program does when it reads the state itself). No value is shown."""
    existing = env.existing_network
    state = existing.terraform_state if existing else None
    if not isinstance(state, LocalState) or not isinstance(account, CloudAccount):
        return []  # a linked cluster has no network: ``stacks.rules`` refuses the section
    where = "network.terraform_state.config.path"
    path = Path(state.config.path)
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError:
        regular = True  # missing or unreadable: read_state names the problem
    if not regular:
        # Never opened: a device or a pipe could be read forever.
        return [f"{where}: {path} is not a file; a Terraform state is one (`terraform state pull > FILE`)"]
    try:
        outputs = read_state(path).outputs
    except InvalidInputError as exc:
        return [f"{where}: {exc.one_line()}"]
    return [f"{p.path}: {p.message}" for p in rules.terraform_output_problems(env, account.cloud, outputs)]


def _valid_part(raw: Mapping[str, Any], exc: ValidationError) -> tuple[Environment, frozenset[str]]:
    """The environment made of ``raw``'s valid top-level fields, and the names of the invalid ones.

    The invalid fields are missing or at their defaults in it: only rules that
    do not read them may look at it.
    """
    invalid = frozenset(str(error["loc"][0]) for error in exc.errors() if error["loc"]) | {
        names[0] for loc, names in misspelt(exc, Environment).items() if len(loc) == 1 and len(names) == 1
    }  # a misspelt section (netwrok:) is the one problem of the section it was meant to be
    valid = {
        field: _field_adapter(field).validate_python(raw[field])
        for field in Environment.model_fields
        if field in raw and field not in invalid
    }
    return Environment.model_construct(**valid), invalid


@cache
def _field_adapter(field: str) -> TypeAdapter[Any]:
    return TypeAdapter(Environment.model_fields[field].rebuild_annotation())


_ACCOUNT_NAME: TypeAdapter[str] = TypeAdapter(AccountName)


def account_name_problem(name: object) -> str | None:
    """What is wrong with ``name`` as a key of accounts.yaml, in words; None when nothing is."""
    try:
        _ACCOUNT_NAME.validate_python(name)
    except ValidationError as exc:
        return "; ".join(validation_problems(exc))
    return None


def parse_account(name: object, entry: object, written: Written | None = None) -> tuple[Account | None, list[str]]:
    """One entry of accounts.yaml as the loader reads it: the account, or "accounts.NAME.field: message" lines."""
    return _parse_entry("accounts", "account", ACCOUNT_MODELS, name, entry, written)


def parse_registry(name: object, entry: object, written: Written | None = None) -> tuple[Registry | None, list[str]]:
    """One entry of accounts.yaml's registries: the registry, or "registries.NAME.field: message" lines."""
    return _parse_entry("registries", "registry", REGISTRY_MODELS, name, entry, written)


def _parse_entry(section: str, what: str, models: Mapping[str, type[M]], name: object,
                 entry: object, written: Written | None) -> tuple[M | None, list[str]]:
    where = f"{section}.{name}"
    problem = account_name_problem(name)
    if problem is not None:
        return None, [f"{where}: the {what} name {problem}"]
    cloud = entry.get("cloud") if isinstance(entry, dict) else None
    model = models.get(cloud) if isinstance(cloud, str) else None
    if model is None:
        return None, [f"{where}.cloud: must be one of {', '.join(models)}"]
    try:
        return model.model_validate(entry), []
    except ValidationError as exc:
        return None, validation_problems(exc, (section, str(name)), model=model, written=written)


class LinkedFile(NamedTuple):
    """What accounts.yaml links: cloud accounts and container registries, by name."""

    accounts: dict[str, Account]
    registries: dict[str, Registry]


def parse_linked(raw: Mapping[str, Any], relative: str = ACCOUNTS_FILE, *, written: Written | None = None) -> LinkedFile:
    """The accounts and registries of an accounts.yaml that holds ``raw`` (``written``: as its text wrote them);
    ``SpecError`` lists every problem."""
    sections = ("accounts", "registries")
    problems = [f"{relative}: {key}: {unknown_field(meant(str(key), sections))}" for key in raw if key not in sections]
    accounts: dict[str, Account] = _entries(raw, "accounts", "account", parse_account, problems, relative, written)
    registries: dict[str, Registry] = _entries(raw, "registries", "registry", parse_registry, problems, relative,
                                               written)
    problems += [f"{relative}: registries.{name}: '{name}' is an account's name too; give the registry another"
                 for name in registries if name in accounts]
    if problems:
        raise SpecError(problems)
    return LinkedFile(accounts, registries)


def _entries(raw: Mapping[str, Any], key: str, what: str,
             parse: Callable[[object, object, Written | None], tuple[T | None, list[str]]],
             problems: list[str], relative: str, written: Written | None) -> dict[str, T]:
    entries = raw.get(key) or {}
    if not isinstance(entries, dict):
        problems.append(f"{relative}: {key}: must be a mapping of {what} name to {what}")
        return {}
    parsed: dict[str, T] = {}
    for name, entry in entries.items():
        value, lines = parse(name, entry, written)
        problems += [f"{relative}: {line}" for line in lines]
        if value is not None:
            parsed[name] = value
    return parsed


def _validate(model: type[M], raw: Any, relative: str) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(_problems(exc, relative, model)) from None


def _problems(exc: ValidationError, relative: str, model: type[BaseModel], written: Written | None = None) -> list[str]:
    return [f"{relative}: {line}" for line in validation_problems(exc, model=model, written=written)]


def read_text(path: Path, relative: str) -> str:
    """The file's text; ``InvalidInputError`` naming ``relative`` when it cannot be read or is not UTF-8.

    Only a regular file (a symbolic link to one too) of at most ``PROJECT_FILE_LIMIT`` bytes is read: a
    pipe, a device or a directory is refused before anything is read from it.
    """
    try:
        data = read_regular(path, PROJECT_FILE_LIMIT)
    except RefusedFileError as exc:
        raise InvalidInputError(f"{relative}: cannot be read: {exc}") from None
    except OSError as exc:
        raise InvalidInputError(f"{relative}: cannot be read: {_os_problem(path, exc)}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError(
            [f"{relative}: line {line}: byte {exc.start} is not UTF-8; save the file as UTF-8"]
        ) from None


def _os_problem(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "it is a loop of symbolic links"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return f"it is a symbolic link to {os.readlink(path)}, which does not exist"
    return exc.strerror or type(exc).__name__


def read_yaml(path: Path, relative: str) -> dict[str, Any]:
    return parse_yaml(read_text(path, relative), relative)
