"""Typed specs for a terrane project's files: ``accounts.yaml`` and ``environments/*.yaml``.

``accounts`` and ``environments`` model one file each, and ``references`` the
secret references both may hold. They validate one file at a time (syntax,
ranges, unknown keys, secret references). Rules that relate fields to each
other, to the account or to its cloud live in ``stacks.rules``. Messages never
repeat a rejected value: a plain string where a secret belongs must not end up
in a terminal or a CI log.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

Cloud = Literal["aws", "azure", "gcp"]


class Spec(BaseModel):
    """Base of every spec model: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def matching(regex: str, words: str) -> AfterValidator:
    """A string rule: ``regex`` must match the whole value, and a mismatch is explained by ``words`` alone.

    The words say what is allowed ("must start with a lowercase letter ..."), so
    a message neither quotes a regular expression nor repeats the value.
    """
    pattern = re.compile(regex)

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
