"""What AWS IAM policy documents grant, read offline.

``accounts verify`` uses it to show that a registry's identity cannot push. The
reading errs towards "granted", so that "nothing grants it" is a proof and
"granted" may overstate:

- an Allow counts whatever its ``Condition`` (the statement is named as conditional);
- an Allow with ``NotResource`` counts unless it excludes every resource of the service;
- a resource pattern counts when it could name a resource of the service: one of
  the ARNs given, or any other (``arn:aws:ecr:*:*:repository/other`` counts for ECR);
- a Deny cancels a grant only when it certainly covers it: no condition, no
  ``NotResource``, and a resource pattern that contains the granted one.

Permissions boundaries, session policies and SCPs can only narrow what identity
policies grant, and are not read; resource-based policies (an ECR repository
policy) can widen it, and are not read either: the identity cannot read them.
Matching follows IAM: actions ignore case, resources do not, ``*`` and ``?`` are
wildcards, and ``*`` spans ``:`` and ``/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from terrane.engine.clouds.wildcards import WILDCARDS, wildcard_match

__all__ = ["AwsGrant", "Statement", "aws_grants", "statements"]


@dataclass(frozen=True)
class Statement:
    """One statement of an identity policy, and where it comes from."""

    policy: str
    """Where it is, in words: "inline policy NAME" or "managed policy ARN"."""
    number: int
    """Its place in the policy, from 1."""
    body: Mapping[str, Any]

    @property
    def name(self) -> str:
        sid = self.body.get("Sid")
        label = f"'{sid}'" if isinstance(sid, str) and sid else str(self.number)
        return f"statement {label} of {self.policy}"

    def values(self, key: str) -> list[str]:
        value = self.body.get(key)
        if isinstance(value, str):
            return [value]
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []

    def concerns(self, action: str) -> bool:
        """Whether the statement is about ``action`` (``Action`` matches it, or ``NotAction`` does not)."""
        if "NotAction" in self.body:
            return not any(wildcard_match(pattern, action, ignore_case=True) for pattern in self.values("NotAction"))
        return any(wildcard_match(pattern, action, ignore_case=True) for pattern in self.values("Action"))


def statements(document: Any, policy: str) -> list[Statement]:
    """The statements of a policy document (a mapping, or its JSON text)."""
    if isinstance(document, str):
        document = json.loads(document)
    raw = document.get("Statement", []) if isinstance(document, Mapping) else []
    if isinstance(raw, Mapping):
        raw = [raw]
    return [Statement(policy, number, body) for number, body in enumerate(raw, start=1) if isinstance(body, Mapping)]


@dataclass(frozen=True)
class AwsGrant:
    """An Allow statement that lets the identity do ``action`` on resources named by ``resource``."""

    statement: Statement
    action: str
    resource: str
    """The pattern of the statement that reaches the service's resources, or "every resource but ..."."""

    @property
    def conditional(self) -> bool:
        return bool(self.statement.body.get("Condition"))

    def __str__(self) -> str:
        condition = " (under a condition)" if self.conditional else ""
        return f"{self.statement.name} allows {self.action} on {self.resource}{condition}"


def aws_grants(found: Iterable[Statement], action: str, service: str, arns: Sequence[str],
               partition: str = "aws", *, elsewhere: bool = True) -> list[AwsGrant]:
    """The statements that allow ``action`` on a resource of ``service``: one of ``arns``, or (``elsewhere``) any
    other one of the service (a push to any repository counts; a policy written on another role does not)."""
    found = list(found)
    grants = [grant for statement in found if statement.body.get("Effect") == "Allow" and statement.concerns(action)
              for grant in _reach(statement, action, service, arns, partition, elsewhere)]
    denials = [statement for statement in found
               if statement.body.get("Effect") == "Deny" and statement.concerns(action)
               and not statement.body.get("Condition") and "NotResource" not in statement.body]
    return [grant for grant in grants if not any(_cancels(denial, grant, service, partition) for denial in denials)]


def _reach(statement: Statement, action: str, service: str, arns: Sequence[str], partition: str,
           elsewhere: bool) -> list[AwsGrant]:
    if "NotResource" in statement.body:
        excluded = statement.values("NotResource")
        if elsewhere and any(_contains(pattern, _everything(service, partition)) for pattern in excluded):
            return []
        if not elsewhere and all(any(wildcard_match(pattern, arn) for pattern in excluded) for arn in arns):
            return []
        return [AwsGrant(statement, action, "every resource but " + ", ".join(excluded))]
    return [AwsGrant(statement, action, pattern) for pattern in statement.values("Resource")
            if (_may_name(pattern, service, arns) if elsewhere
                else any(wildcard_match(pattern, arn) for arn in arns))]


def _may_name(pattern: str, service: str, arns: Sequence[str]) -> bool:
    """Whether a resource pattern could name a resource of ``service``: one of ``arns``, or another one."""
    if any(wildcard_match(pattern, arn) for arn in arns):
        return True
    fields = pattern.split(":", 3)
    if len(fields) < 3 or any(char in field for field in fields[:2] for char in WILDCARDS):
        # A wildcard before the service field may span into it.
        return any(char in pattern for char in WILDCARDS)
    if "*" in fields[2]:
        return True
    return wildcard_match(fields[2], service)


def _everything(service: str, partition: str) -> str:
    return f"arn:{partition}:{service}:*"


def _contains(outer: str, inner: str) -> bool:
    """Whether every resource ``inner`` names is certainly named by ``outer`` too."""
    if outer in (inner, "*"):
        return True
    prefix = outer[:-1]
    return outer.endswith("*") and not any(char in prefix for char in WILDCARDS) and inner.startswith(prefix)


def _cancels(denial: Statement, grant: AwsGrant, service: str, partition: str) -> bool:
    target = _everything(service, partition) if grant.resource.startswith("every resource but") else grant.resource
    return any(_contains(pattern, target) for pattern in denial.values("Resource"))
