"""Wildcard patterns as IAM and Azure RBAC write them: ``*`` is any text (``/`` and ``:`` too), ``?`` one character."""

from __future__ import annotations

import re
from functools import cache

WILDCARDS = ("*", "?")


def wildcard_match(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Whether ``text`` matches ``pattern``, in which ``*`` is any text (``/`` and ``:`` too) and ``?`` one character."""
    return _regex(pattern, ignore_case).fullmatch(text) is not None


@cache
def _regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))
