"""The values of a plan's inputs, and IAM policy documents in words: what every part of the audit reads them with."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# --- the plan, as the audit looks things up in it -----------------------------------------------------------------


def _get(inputs: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = inputs
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _document(value: Any) -> dict[str, Any]:
    """A policy document as a plan holds it: a JSON string, or already a mapping."""
    if isinstance(value, Mapping):
        return dict(value)
    try:
        decoded = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _flow(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), sort_keys=True) if not isinstance(value, str) else value


# --- IAM policy documents, in words -------------------------------------------------------------------------------

_OPERATORS = {"StringEquals": "is", "StringLike": "matches", "ArnEquals": "is", "ArnLike": "matches", "Bool": "is"}
# Above this many actions a statement is summed up by count and service; the full policy is the plan's (or the
# bootstrap template's).
_ACTIONS_SHOWN = 4


def _conditions(condition: Mapping[str, Any]) -> str:
    return " and ".join(f"{key} {_OPERATORS.get(operator, operator)} {' or '.join(_listed(values))}"
                        for operator, keys in condition.items() for key, values in keys.items())


def _actions(actions: Sequence[str]) -> str:
    if len(actions) <= _ACTIONS_SHOWN:
        return ", ".join(actions)
    services = ", ".join(dict.fromkeys(action.split(":", 1)[0] for action in actions))
    return f"{len(actions)} {services} actions"


def _statement(statement: Mapping[str, Any], *, principal: bool = False) -> str:
    """One statement of a policy in words; ``principal``: say whom it names (a key or resource policy)."""
    text = f"{_actions(_listed(statement.get('Action')))} on {', '.join(_listed(statement.get('Resource')))}"
    deny = statement.get("Effect") == "Deny"
    if principal:
        text = f"{_principal(statement.get('Principal'))} {'may not' if deny else 'may'} {text}"
    elif deny:
        text = f"deny {text}"
    if statement.get("Condition"):
        text += f" when {_conditions(statement['Condition'])}"
    sid = statement.get("Sid")
    return f"{sid}: {text}" if sid else text


def _principal(principal: Any) -> str:
    if not isinstance(principal, Mapping):
        return str(principal)
    words = {"Service": "the service {}", "Federated": "tokens of {}", "AWS": "{}"}
    return ", ".join(words.get(key, "{}").format(value) for key, values in principal.items()
                     for value in _listed(values))


def _trusts(policy: Mapping[str, Any]) -> list[str]:
    """Who may assume a role, in words, one line per statement of its trust policy."""
    lines = []
    for statement in _listed_statements(policy):
        line = f"assumable only by {_principal(statement.get('Principal'))}"
        if statement.get("Condition"):
            line += f" when {_conditions(statement['Condition'])}"
        lines.append(line)
    return lines


def _listed_statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else [s for s in statements if isinstance(s, Mapping)]


def _allows(statements: Iterable[Mapping[str, Any]], action: str) -> bool:
    return any(fnmatch.fnmatch(action.lower(), pattern.lower()) for statement in statements
               if statement.get("Effect", "Allow") == "Allow" for pattern in _listed(statement.get("Action")))
