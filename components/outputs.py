"""Reading provider outputs whose SDK types are optional but which a created resource always has."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def present(value: T | None) -> T:
    """``value``, which the cloud always reports once the resource exists; an error if it did not."""
    if value is None:
        raise ValueError("the provider reported no value for a property every created resource has")
    return value


def nth(index: int) -> Callable[[Sequence[T]], T]:
    """The ``index``-th item of a list output, bound now (a lambda in a loop would see the last index)."""
    return lambda items: items[index]
