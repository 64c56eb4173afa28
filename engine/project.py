"""A terrane project on disk: where it is, and its validated accounts and environments.

Every problem in a project file becomes a ``SpecError`` whose lines name the
file and the field path, and never repeat a value that may be a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from terrane.engine.errors import InvalidInputError, SpecError
from terrane.stacks import rules
from terrane.stacks.spec.accounts import ACCOUNT_MODELS, ACCOUNT_NAME, Account
from terrane.stacks.spec.environments import Environment

ACCOUNTS_FILE = "accounts.yaml"
ENVIRONMENTS_DIR = "environments"
PROJECT_ENV_VAR = "TERRANE_PROJECT"

M = TypeVar("M", bound=BaseModel)


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
    return Project(root.resolve())


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def pulumi_project(self) -> str:
        """The Pulumi project name from Pulumi.yaml: it is part of every URN."""
        settings = self.root / "Pulumi.yaml"
        name = read_yaml(settings, "Pulumi.yaml").get("name") if settings.is_file() else None
        return name if isinstance(name, str) and name else "terrane"

    def environment_names(self) -> list[str]:
        directory = self.root / ENVIRONMENTS_DIR
        return sorted(path.stem for path in directory.glob("*.yaml")) if directory.is_dir() else []

    @cached_property
    def accounts(self) -> dict[str, Account]:
        path = self.root / ACCOUNTS_FILE
        if not path.is_file():
            return {}
        raw = read_yaml(path, ACCOUNTS_FILE)
        return _parse_accounts(raw, ACCOUNTS_FILE)

    def reload_accounts(self) -> None:
        """``accounts.yaml`` changed on disk: read it again when ``accounts`` is next asked for."""
        self.__dict__.pop("accounts", None)

    def environment(self, name: str) -> Environment:
        """Load and fully validate one environment, including its account and cloud rules."""
        path = self.root / ENVIRONMENTS_DIR / f"{name}.yaml"
        if not path.is_file():
            known = ", ".join(self.environment_names()) or "none"
            raise InvalidInputError(
                f"unknown environment '{name}': there is no {ENVIRONMENTS_DIR}/{name}.yaml (known: {known})"
            )
        relative = f"{ENVIRONMENTS_DIR}/{name}.yaml"
        env = _validate(Environment, read_yaml(path, relative), relative)
        problems = []
        if env.name != name:
            problems.append(f"{relative}: name: '{env.name}' must equal the file name '{name}'")
        account = self.accounts.get(env.account)
        if account is None:
            known = ", ".join(self.accounts) or "none; link one with: terrane accounts link"
            problems.append(f"{relative}: account: unknown account '{env.account}' ({ACCOUNTS_FILE} has: {known})")
        else:
            problems += [f"{relative}: {p.path}: {p.message}" for p in rules.check(env, account)]
        if problems:
            raise SpecError(problems)
        return env

    def account_for(self, env: Environment) -> Account:
        return self.accounts[env.account]


def _parse_accounts(raw: Mapping[str, Any], relative: str) -> dict[str, Account]:
    problems = [f"{relative}: {key}: unknown field" for key in raw if key != "accounts"]
    entries = raw.get("accounts") or {}
    if not isinstance(entries, dict):
        raise SpecError([f"{relative}: accounts: must be a mapping of account name to account"])
    accounts: dict[str, Account] = {}
    for name, entry in entries.items():
        where = f"accounts.{name}"
        if not isinstance(name, str) or not re.fullmatch(ACCOUNT_NAME, name):
            problems.append(f"{relative}: {where}: account names are lowercase letters, digits and '-'")
            continue
        cloud = entry.get("cloud") if isinstance(entry, dict) else None
        model = ACCOUNT_MODELS.get(cloud) if isinstance(cloud, str) else None
        if model is None:
            problems.append(f"{relative}: {where}.cloud: must be one of {', '.join(ACCOUNT_MODELS)}")
            continue
        try:
            accounts[name] = model.model_validate(entry)
        except ValidationError as exc:
            problems += _problems(exc, relative, ("accounts", name))
    if problems:
        raise SpecError(problems)
    return accounts


def _validate(model: type[M], raw: Any, relative: str) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(_problems(exc, relative)) from None


def _problems(exc: ValidationError, relative: str, prefix: tuple[str | int, ...] = ()) -> list[str]:
    return [f"{relative}: {line}" for line in validation_problems(exc, prefix)]


def validation_problems(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[str]:
    """One "field.path: message" line per problem; never the rejected value."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        path = _path((*prefix, *error["loc"]))
        message = _message(error)
        lines.append(f"{path}: {message}" if path else message)
    return lines


def _path(loc: tuple[str | int, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "is required"
    return str(error["msg"]).replace("Input should be", "must be").replace("String should", "should")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, relative: str) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as stream:
            data = yaml.load(stream, Loader=_StrictLoader)  # a SafeLoader, stricter
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        # Only the parser's own words: its snippet of the line could hold a secret.
        raise SpecError([f"{relative}: {where}invalid YAML: {exc.problem}"]) from None
    except yaml.YAMLError:
        raise SpecError([f"{relative}: invalid YAML"]) from None
    except OSError as exc:
        raise InvalidInputError(f"{relative}: cannot be read: {exc.strerror}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError([f"{relative}: must be a YAML mapping"])
    return data
