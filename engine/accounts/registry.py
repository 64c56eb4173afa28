"""Linking, listing and removing the cloud accounts of a project (``accounts.yaml``).

The file keeps identities and secret references only. Every write is atomic
(``engine.files``), made under a lock so that concurrent changes are applied one
after the other, and leaves the other accounts as they were; nothing is written
when validation or verification fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from terrane.engine.errors import InvalidInputError, SpecError
from terrane.engine.files import write_atomically
from terrane.engine.operations.locks import accounts_lock
from terrane.engine.operations.workspace import STATE_DIR
from terrane.engine.project import (
    ACCOUNTS_FILE,
    ENVIRONMENTS_DIR,
    Project,
    read_yaml,
    validation_problems,
)
from terrane.stacks.spec.accounts import ACCOUNT_MODELS, Account

if TYPE_CHECKING:
    from terrane.engine.accounts.verify import Verification


@dataclass(frozen=True)
class AccountSummary:
    name: str
    cloud: str
    account_id: str
    region: str
    auth: str
    environments: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cloud": self.cloud,
            "account_id": self.account_id,
            "region": self.region,
            "auth": self.auth,
            "environments": list(self.environments),
        }


def parse_account(raw: Mapping[str, Any], flags: Mapping[str, str]) -> Account:
    """Validate an account given on the command line; problems name the flag that set the field."""
    model = ACCOUNT_MODELS[raw["cloud"]]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = validation_problems(exc)
        raise SpecError([_flagged(line, flags) for line in lines]) from None


def _flagged(line: str, flags: Mapping[str, str]) -> str:
    path, _, message = line.partition(": ")
    return f"{flags[path]}: {message}" if path in flags else line


def summaries(project: Project) -> list[AccountSummary]:
    used = _environments_by_account(project)
    return [
        AccountSummary(
            name=name,
            cloud=account.cloud,
            account_id=account.scope_id,
            region=account.default_region,
            auth=account.auth.method,
            environments=tuple(used.get(name, ())),
        )
        for name, account in project.accounts.items()
    ]


def link(
    project: Project,
    name: str,
    account: Account,
    *,
    verify: bool = True,
    replace: bool = False,
) -> Verification | None:
    """Add ``account`` as ``name``, verified first unless ``verify`` is False."""
    if name in project.accounts and not replace:
        raise InvalidInputError(f"account '{name}' is already linked; pass --replace to link it again")
    verification = None
    if verify:
        from terrane.engine.accounts.verify import verify as check

        verification = check(name, account)
    document = account.model_dump(mode="json", exclude_none=True)

    def add(accounts: dict[str, Any]) -> None:
        if name in accounts and not replace:  # linked meanwhile by another run
            raise InvalidInputError(f"account '{name}' is already linked; pass --replace to link it again")
        accounts[name] = document

    _update(project, add)
    return verification


def remove(project: Project, name: str) -> None:
    if name not in project.accounts:
        raise InvalidInputError(f"unknown account '{name}' ({ACCOUNTS_FILE} has: {', '.join(project.accounts) or 'none'})")
    users = _environments_by_account(project).get(name)
    if users:
        files = ", ".join(f"{ENVIRONMENTS_DIR}/{env}.yaml" for env in users)
        raise InvalidInputError(f"account '{name}' is used by {files}; point them at another account first")
    _update(project, lambda accounts: accounts.pop(name))


def _environments_by_account(project: Project) -> dict[str, list[str]]:
    """Which environments name which account, read leniently: an invalid environment still counts."""
    used: dict[str, list[str]] = {}
    for env in project.environment_names():
        path = project.root / ENVIRONMENTS_DIR / f"{env}.yaml"
        try:
            account = read_yaml(path, f"{ENVIRONMENTS_DIR}/{env}.yaml").get("account")
        except InvalidInputError:
            continue
        if isinstance(account, str):
            used.setdefault(account, []).append(env)
    return used


# How long a change of accounts.yaml waits for another one to finish.
_ACCOUNTS_WAIT_SECONDS = 30.0


def _update(project: Project, change: Callable[[dict[str, Any]], object]) -> None:
    """Read, change and write accounts.yaml under its lock: concurrent changes apply one after the other."""
    path = project.root / ACCOUNTS_FILE
    with accounts_lock(project.root / STATE_DIR).acquire(wait=_ACCOUNTS_WAIT_SECONDS):
        raw = read_yaml(path, ACCOUNTS_FILE) if path.exists() else {}
        accounts = raw.setdefault("accounts", {})
        change(accounts)
        header = _leading_comments(path)
        body = yaml.safe_dump(raw, sort_keys=False, default_flow_style=False)
        write_atomically(path, header + body)
    project.reload_accounts()


def _leading_comments(path: Path) -> str:
    """The comment block at the top of the file, which a YAML round trip would lose."""
    if not path.exists():
        return ""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines)
