"""Linking, listing and removing the cloud accounts of a project (``accounts.yaml``).

The file keeps identities and secret references only. Every write is atomic
(``engine.files``), made under a lock so that concurrent changes are applied one
after the other, and changes only the lines of the account it is about: the
other accounts, comments and order stay as they were. Nothing is written when
validation or verification fails, and what is written is checked first by the
loader's own rules, so a link never leaves a file that later commands refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    Project,
    account_name_problem,
    parse_accounts,
    parse_yaml,
    read_text,
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
    problem = account_name_problem(name)
    if problem is not None:
        raise InvalidInputError(f"account name '{name}': {problem}")
    if name in project.accounts and not replace:
        raise InvalidInputError(f"account '{name}' is already linked; pass --replace to link it again")
    verification = None
    if verify:
        from terrane.engine.accounts.verify import verify as check

        verification = check(name, account)
    _update(project, name, account.model_dump(mode="json", exclude_none=True), replace=replace)
    return verification


def remove(project: Project, name: str) -> None:
    """Unlink ``name``; the file is read leniently, so that an entry the loader refuses can be removed too."""
    linked = _linked(project.root / ACCOUNTS_FILE)
    if name not in linked:
        raise InvalidInputError(f"unknown account '{name}' ({ACCOUNTS_FILE} has: {', '.join(linked) or 'none'})")
    users = _environments_by_account(project).get(name)
    if users:
        files = ", ".join(_environment_file(project, env) for env in users)
        raise InvalidInputError(f"account '{name}' is used by {files}; point them at another account first")
    _update(project, name, None)


def _linked(path: Path) -> list[str]:
    """The account names in accounts.yaml, valid or not."""
    entries = read_yaml(path, ACCOUNTS_FILE).get("accounts") if path.exists() else None
    return [str(name) for name in entries] if isinstance(entries, dict) else []


def _environment_file(project: Project, env: str) -> str:
    try:
        return project.environment_file(env)
    except InvalidInputError:
        return env


def _environments_by_account(project: Project) -> dict[str, list[str]]:
    """Which environments name which account, read leniently: an invalid environment still counts."""
    used: dict[str, list[str]] = {}
    for env in project.environment_names():
        try:
            relative = project.environment_file(env)
            account = read_yaml(project.root / relative, relative).get("account")
        except InvalidInputError:
            continue
        if isinstance(account, str):
            used.setdefault(account, []).append(env)
    return used


# How long a change of accounts.yaml waits for another one to finish.
_ACCOUNTS_WAIT_SECONDS = 30.0


def _update(project: Project, name: str, entry: dict[str, Any] | None, *, replace: bool = False) -> None:
    """Set account ``name`` to ``entry`` (None: remove it) in accounts.yaml, under its lock.

    The file is read again under the lock: concurrent changes apply one after the other.
    """
    path = project.root / ACCOUNTS_FILE
    with accounts_lock(project.root / STATE_DIR).acquire(wait=_ACCOUNTS_WAIT_SECONDS):
        text = read_text(path, ACCOUNTS_FILE) if path.exists() else ""
        raw = parse_yaml(text, ACCOUNTS_FILE)
        accounts = raw.get("accounts") or {}
        if not isinstance(accounts, dict):
            raise SpecError([f"{ACCOUNTS_FILE}: accounts: must be a mapping of account name to account"])
        if entry is not None and name in accounts and not replace:  # linked meanwhile by another run
            raise InvalidInputError(f"account '{name}' is already linked; pass --replace to link it again")
        changed = dict(accounts)
        if entry is None:
            changed.pop(name, None)
        else:
            changed[name] = entry
        wanted = {**raw, "accounts": changed}
        if entry is not None:
            parse_accounts(wanted)  # what the loader will read next: refused here, before anything is written
        write_atomically(path, _edited(text, name, entry, wanted))
    project.reload_accounts()


def _edited(text: str, name: str, entry: dict[str, Any] | None, wanted: Mapping[str, Any]) -> str:
    """``text`` with only the lines of account ``name`` changed, when that yields ``wanted``; else ``wanted`` anew.

    Writing ``wanted`` anew (its leading comments kept) is for files whose
    accounts are in flow style, or share anchors and aliases.
    """
    edited = _splice(text, name, entry)
    if edited is not None and _reads_as(edited, wanted):
        return edited
    return _leading_comments(text) + yaml.safe_dump(dict(wanted), sort_keys=False, default_flow_style=False)


def _reads_as(text: str, wanted: Mapping[str, Any]) -> bool:
    try:
        loaded = parse_yaml(text, ACCOUNTS_FILE)
    except SpecError:
        return False
    # With its last account cut out, `accounts:` holds nothing, which reads as no accounts.
    return {**loaded, "accounts": loaded.get("accounts") or {}} == wanted


# How far a first account is indented under ``accounts:``.
_INDENT = 2


def _splice(text: str, name: str, entry: dict[str, Any] | None) -> str | None:
    """``text`` with the block of account ``name`` replaced by ``entry``'s, added, or (``entry`` None) cut out."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None and not isinstance(root, yaml.MappingNode):
        return None
    found = next(((key, value) for key, value in root.value if key.value == "accounts"), None) if root else None
    block = "" if entry is None else yaml.safe_dump({name: entry}, sort_keys=False, default_flow_style=False)
    if found is None:
        return _appended(text, "accounts:\n" + _indented(block, _INDENT))
    key, node = found
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _spliced_entry(text, node, name, block)
    if _empty(node):
        # `accounts:` or `accounts: {}`: the value goes, a comment after it stays on the line.
        end = _content_end(text, node)
        head = text[: key.end_mark.index] + ":" + text[node.end_mark.index : end]
        return _appended(head, _indented(block, _INDENT)) + text[end:]
    return None


def _spliced_entry(text: str, node: yaml.MappingNode, name: str, block: str) -> str:
    spans = {key.value: (_line_start(text, key.start_mark.index), _content_end(text, value)) for key, value in node.value}
    block = _indented(block, node.value[0][0].start_mark.column)
    if name in spans:
        start, end = spans[name]
        return text[:start] + block + text[end:]
    end = max(end for _, end in spans.values())
    return _appended(text[:end], block) + text[end:]


def _empty(node: yaml.Node) -> bool:
    if isinstance(node, yaml.ScalarNode):
        return node.tag == "tag:yaml.org,2002:null"
    return isinstance(node, yaml.MappingNode) and not node.value


def _content_end(text: str, node: yaml.Node) -> int:
    """Where the line of ``node``'s last character ends: comments after it belong to what follows."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    index = node.end_mark.index
    if index > 0 and text[index - 1] == "\n":
        return index
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _appended(text: str, block: str) -> str:
    return text + ("\n" if text and not text.endswith("\n") else "") + block


def _indented(block: str, columns: int) -> str:
    return "".join(" " * columns + line if line.strip() else line for line in block.splitlines(keepends=True))


def _leading_comments(text: str) -> str:
    """The comment block at the top of the file, which a YAML round trip would lose."""
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines)
