"""Typed specs for a terrane project's files: ``accounts.yaml`` and ``environments/*.yaml``.

``accounts`` and ``environments`` model one file each, and ``references`` the
secret references both may hold. They validate one file at a time (syntax,
ranges, unknown keys, secret references, each cloud's ``regions``); booleans
and integers are strict, as YAML is not. Rules that relate fields to each
other, to the account or to its cloud live in ``stacks.rules``; ``problems``
words the errors. Messages never repeat a rejected string, but a region short
and plain enough to be one: a plain string where a secret belongs must not end
up in a terminal or a CI log.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

Cloud = Literal["aws", "azure", "gcp"]

# Names the clouds define, shared by the specs and the bootstraps that print templates for them.
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
GCP_PROJECT = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"
ECR_REPOSITORY = r"(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
ACR_NAME = r"[a-zA-Z0-9]{5,50}"
AZURE_RESOURCE_GROUP = r"[-\w.()]{0,89}[-\w()]"
"""Letters and digits of any script (Char.IsLetterOrDigit), as Azure takes them: compile it without ``re.ASCII``."""
ARTIFACT_REPOSITORY = r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?"


class Spec(BaseModel):
    """Base of every spec model: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def matching(regex: str, words: str, *, any_script: bool = False) -> AfterValidator:
    """A string rule: ``regex`` must match the whole value, and a mismatch is explained by ``words`` alone.

    The words say what is allowed ("must start with a lowercase letter ..."), so
    a message neither quotes a regular expression nor repeats the value. ``\\d``
    and ``\\w`` mean ASCII digits and word characters, as the clouds' identifiers
    do (an account id of Arabic-Indic digits is no account id), unless
    ``any_script``: a name the cloud takes in any script (an Azure resource group).
    """
    pattern = re.compile(regex, 0 if any_script else re.ASCII)

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise PydanticCustomError("pattern", words)
        return value

    return AfterValidator(check)


Region = Annotated[
    str,
    matching(r"[a-z]{2,}(-[a-z0-9]+)+|[a-z]+[0-9]*",
             "must be a region: lowercase letters, digits and '-' (like us-east-1, westeurope or europe-west1)"),
]


def no_duplicates(values: list[str], what: str) -> None:
    problem = duplicates(values, what)
    if problem:
        raise PydanticCustomError("duplicate", "{problem}", {"problem": problem})


def duplicates(values: list[str], what: str) -> str:
    """Every value given more than once, in words; empty when there is none."""
    return listed(f"duplicate {what} ", [value for value, count in Counter(values).items() if count > 1])


def spoken(items: Sequence[str], conjunction: str = "and") -> str:
    """``items`` as a sentence lists them: "a", "a and b", "a, b and c" (or "a, b or c")."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


_CLOSE_ENOUGH = 0.75
"""How alike (difflib's ratio) a typo and what it was meant to be are, at least: netwrok and network (0.86)."""
_MOST_ALIKE = 3
"""More names as alike as the likeliest make no suggestion: a guess among them would not help."""


def meant(word: str, known: Iterable[str]) -> list[str]:
    """What of ``known`` ``word`` is likeliest a typo of: all of the likeliest, when several are as alike (eu-west-1,
    eu-west-2 and eu-west-3 for eu-west-9); none when nothing is close, or too many are."""
    alike = {name: difflib.SequenceMatcher(None, word, name).ratio() for name in known}
    best = max(alike.values(), default=0.0)
    close = sorted(name for name, ratio in alike.items() if ratio == best) if best >= _CLOSE_ENOUGH else []
    return close if len(close) <= _MOST_ALIKE else []


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """"did you mean X?" naming what ``word`` is likeliest a typo of (``meant``); empty when nothing is close."""
    close = meant(word, known)
    return f"did you mean {spoken(close, 'or')}?" if close else ""


def listed(prefix: str, values: list[str]) -> str:
    return (prefix + ", ".join(f"'{value}'" for value in values)) if values else ""
