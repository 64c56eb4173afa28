"""Linking, listing and removing the cloud accounts and container registries of a project (``accounts.yaml``).

The file keeps identities and secret references only: accounts under
``accounts:``, registries under ``registries:``, one name never in both. Every
write is atomic (``engine.files``), made under a lock so that concurrent changes
are applied one after the other, and changes only the lines of the entry it is
about: the other entries, comments and order stay as they were. Nothing is
written when validation or verification fails, and what is written is checked
first by the loader's own rules, so a link never leaves a file that later
commands refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import yaml
from pydantic import ValidationError

from terrane.engine.errors import InvalidInputError, SpecError
from terrane.engine.files import write_atomically
from terrane.engine.project import (
    ACCOUNTS_FILE,
    Project,
    account_name_problem,
    parse_linked,
    parse_yaml,
    read_text,
    read_yaml,
    validation_problems,
)
from terrane.engine.store.locks import accounts_lock
from terrane.engine.store.paths import STATE_DIR
from terrane.stacks.spec.accounts import ACCOUNT_MODELS, Account
from terrane.stacks.spec.registries import REGISTRY_KINDS, REGISTRY_MODELS, Registry

if TYPE_CHECKING:
    from pydantic import BaseModel

Section = Literal["accounts", "registries"]
"""The top-level key of accounts.yaml an entry lives under."""
_NOUN: dict[Section, str] = {"accounts": "account", "registries": "registry"}
M = TypeVar("M", bound="BaseModel")
V = TypeVar("V")


@dataclass(frozen=True)
class AccountSummary:
    name: str
    cloud: str
    account_id: str
    region: str | None
    """None for a Kubernetes cluster, which has no regions."""
    auth: str
    """The sign-in method; a Kubernetes cluster's is its kubeconfig's reference: "kubeconfig (file:PATH)"."""
    environments: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class RegistrySummary:
    name: str
    cloud: str
    kind: str
    """ECR, ACR or Artifact Registry."""
    where: tuple[str, ...]
    """What a cluster pulls from: repository URIs, or the registry's login server."""
    auth: str
    environments: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


def _plain(summary: AccountSummary | RegistrySummary) -> dict[str, Any]:
    """A summary as ``--json`` prints it: its fields in order, tuples as lists."""
    return {item.name: list(value) if isinstance(value := getattr(summary, item.name), tuple) else value
            for item in fields(summary)}


def parse_account(raw: Mapping[str, Any], flags: Mapping[str, str]) -> Account:
    """Validate an account given on the command line; problems name the flag that set the field."""
    return _validated(ACCOUNT_MODELS[raw["cloud"]], raw, flags)


def parse_registry(raw: Mapping[str, Any], flags: Mapping[str, str]) -> Registry:
    """Validate a registry given on the command line; problems name the flag that set the field."""
    return _validated(REGISTRY_MODELS[raw["cloud"]], raw, flags)


def _validated(model: type[M], raw: Mapping[str, Any], flags: Mapping[str, str]) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = validation_problems(exc)
        raise SpecError([_flagged(line, flags) for line in lines]) from None


def _flagged(line: str, flags: Mapping[str, str]) -> str:
    path, _, message = line.partition(": ")
    return f"{flags[path]}: {message}" if path in flags else line


def summaries(project: Project) -> list[AccountSummary]:
    used = _environments_using(project, _account_of)
    return [
        AccountSummary(
            name=name,
            cloud=account.cloud,
            account_id=account.scope_id,
            region=account.default_region,
            auth=account.sign_in,
            environments=tuple(used.get(name, ())),
        )
        for name, account in project.accounts.items()
    ]


def registry_summaries(project: Project) -> list[RegistrySummary]:
    used = _environments_using(project, _registries_of)
    return [
        RegistrySummary(
            name=name,
            cloud=registry.cloud,
            kind=REGISTRY_KINDS[registry.cloud],
            where=tuple(registry.targets),
            auth=registry.auth.method,
            environments=tuple(used.get(name, ())),
        )
        for name, registry in project.registries.items()
    ]


def link(
    project: Project,
    name: str,
    account: Account | Registry,
    *,
    verify: Callable[[str, Account | Registry], V] | None,
    replace: bool = False,
) -> V | None:
    """Add ``account`` (an account or a registry) as ``name``, checked first with ``verify`` unless it is None.

    ``verify`` is ``engine.clouds.verification.for_link``, or the caller's own:
    whatever it raises, nothing is written; its result is returned.
    """
    section = _section_of(account)
    noun = _NOUN[section]
    problem = account_name_problem(name)
    if problem is not None:
        raise InvalidInputError(f"{noun} name '{name}': {problem}")
    _check_name(name, section, {"accounts": project.accounts, "registries": project.registries}, replace)
    verification = verify(name, account) if verify is not None else None
    _update(project, section, name, account.model_dump(mode="json", exclude_none=True), replace=replace)
    return verification


def _section_of(entry: Account | Registry) -> Section:
    return "registries" if isinstance(entry, Registry) else "accounts"


def _check_name(name: str, section: Section, linked: Mapping[Section, Mapping[str, object]], replace: bool) -> None:
    """Refuse a name the other section has, or (without ``replace``) one this section has."""
    noun = _NOUN[section]
    for other, entries in linked.items():
        if other != section and name in entries:
            raise InvalidInputError(f"'{name}' is already linked as {'an' if other == 'accounts' else 'a'} "
                                    f"{_NOUN[other]}; give the {noun} another name")
    if name in linked[section] and not replace:
        raise InvalidInputError(f"{noun} '{name}' is already linked; pass --replace to link it again")


def remove(project: Project, name: str) -> Section:
    """Unlink account or registry ``name`` (which one: the section it was in).

    The file is read leniently: an entry the loader refuses can be removed too.
    """
    linked = {section: _linked(project.root / ACCOUNTS_FILE, section) for section in _NOUN}
    section = next((section for section, names in linked.items() if name in names), None)
    if section is None:
        known = ", ".join(linked["accounts"] + linked["registries"]) or "none"
        raise InvalidInputError(f"unknown account or registry '{name}' ({ACCOUNTS_FILE} has: {known})")
    named, remedy = _USERS[section]
    users = _environments_using(project, named).get(name)
    if users:
        files = ", ".join(_environment_file(project, env) for env in users)
        raise InvalidInputError(f"{_NOUN[section]} '{name}' is used by {files}; {remedy}")
    _update(project, section, name, None)
    return section


def _linked(path: Path, section: Section) -> list[str]:
    """The names under ``section`` of accounts.yaml, valid or not."""
    entries = read_yaml(path, ACCOUNTS_FILE).get(section) if path.exists() else None
    return [str(name) for name in entries] if isinstance(entries, dict) else []


def _environment_file(project: Project, env: str) -> str:
    try:
        return project.environment_file(env)
    except InvalidInputError:
        return env


def _environments_using(project: Project, named: Callable[[Mapping[str, Any]], list[str]]) -> dict[str, list[str]]:
    """Which environments name which entry (``named`` reads them from a file), read leniently.

    An invalid environment still counts: it is still meant to use what it names.
    """
    used: dict[str, list[str]] = {}
    for env in project.environment_names():
        try:
            relative = project.environment_file(env)
            raw = read_yaml(project.root / relative, relative)
        except InvalidInputError:
            continue
        for name in named(raw):
            used.setdefault(name, []).append(env)
    return used


def _account_of(raw: Mapping[str, Any]) -> list[str]:
    account = raw.get("account")
    return [account] if isinstance(account, str) else []


def _registries_of(raw: Mapping[str, Any]) -> list[str]:
    cluster = raw.get("cluster")
    named = cluster.get("registries") if isinstance(cluster, dict) else None
    return list(dict.fromkeys(name for name in named if isinstance(name, str))) if isinstance(named, list) else []


# How an environment names an entry of each section, and what to change in it before the entry can go.
_USERS: dict[Section, tuple[Callable[[Mapping[str, Any]], list[str]], str]] = {
    "accounts": (_account_of, "point them at another account first"),
    "registries": (_registries_of, "take it out of their cluster.registries first"),
}


# How long a change of accounts.yaml waits for another one to finish.
_ACCOUNTS_WAIT_SECONDS = 30.0


def _update(project: Project, section: Section, name: str, entry: dict[str, Any] | None, *,
            replace: bool = False) -> None:
    """Set ``name`` under ``section`` to ``entry`` (None: remove it) in accounts.yaml, under its lock.

    The file is read again under the lock: concurrent changes apply one after the other.
    """
    path = project.root / ACCOUNTS_FILE
    with accounts_lock(project.root / STATE_DIR).acquire(wait=_ACCOUNTS_WAIT_SECONDS):
        text = read_text(path, ACCOUNTS_FILE) if path.exists() else ""
        raw = parse_yaml(text, ACCOUNTS_FILE)
        entries = raw.get(section) or {}
        if not isinstance(entries, dict):
            noun = _NOUN[section]
            raise SpecError([f"{ACCOUNTS_FILE}: {section}: must be a mapping of {noun} name to {noun}"])
        if entry is not None:  # linked meanwhile by another run
            present: dict[Section, Mapping[str, object]] = {key: _mapping(raw.get(key)) for key in _NOUN}
            _check_name(name, section, present, replace)
        changed = dict(entries)
        if entry is None:
            changed.pop(name, None)
        else:
            changed[name] = entry
        wanted = {**raw, section: changed}
        if entry is not None:
            parse_linked(wanted)  # what the loader will read next (both sections): refused here, before any write
        write_atomically(path, _edited(text, section, name, entry, wanted))
    project.reload_accounts()


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def _edited(text: str, section: Section, name: str, entry: dict[str, Any] | None, wanted: Mapping[str, Any]) -> str:
    """``text`` with only the lines of entry ``name`` changed, when that yields ``wanted``; else ``wanted`` anew.

    Writing ``wanted`` anew (its leading comments kept) is for files whose
    entries are in flow style, or share anchors and aliases.
    """
    edited = _splice(text, section, name, entry)
    if edited is not None and _reads_as(edited, section, wanted):
        return edited
    return _leading_comments(text) + yaml.safe_dump(dict(wanted), sort_keys=False, default_flow_style=False)


def _reads_as(text: str, section: Section, wanted: Mapping[str, Any]) -> bool:
    try:
        loaded = parse_yaml(text, ACCOUNTS_FILE)
    except SpecError:
        return False
    # With its last entry cut out, `accounts:` holds nothing, which reads as no accounts.
    return {**loaded, section: loaded.get(section) or {}} == wanted


# How far a first entry is indented under ``accounts:`` or ``registries:``.
_INDENT = 2


def _splice(text: str, section: Section, name: str, entry: dict[str, Any] | None) -> str | None:
    """``text`` with the block of ``section``'s entry ``name`` replaced by ``entry``'s, added, or cut out (None)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None and not isinstance(root, yaml.MappingNode):
        return None
    found = next(((key, value) for key, value in root.value if key.value == section), None) if root else None
    block = "" if entry is None else yaml.safe_dump({name: entry}, sort_keys=False, default_flow_style=False)
    if found is None:
        return _appended(text, f"{section}:\n" + _indented(block, _INDENT))
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
