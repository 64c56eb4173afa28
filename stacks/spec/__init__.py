"""Typed specs for a terrane project's files: ``accounts.yaml`` and ``environments/*.yaml``.

``accounts`` and ``environments`` model one file each, and ``references`` the
secret references both may hold. They validate one file at a time (syntax,
ranges, unknown keys, secret references). Rules that relate fields to each
other, to the account or to its cloud live in ``stacks.rules``. Messages never
repeat a rejected value: a plain string where a secret belongs must not end up
in a terminal or a CI log.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Cloud = Literal["aws", "azure", "gcp"]


class Spec(BaseModel):
    """Base of every spec model: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Region = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,}(-[a-z0-9]+)+$|^[a-z]+[0-9]*$")]
