"""What the Pulumi CLI and its engine say, condensed to what a reader needs: one line, the cause, what to do."""

from __future__ import annotations

import re

# The engine's warning that an earlier update was interrupted lists each operation it left pending.
INTERRUPTED = re.compile(r"^\s*\* (urn:\S+), interrupted while (\w+)$", re.MULTILINE)


def interrupted(environment: str, operations: list[tuple[str, str]]) -> str:
    """What ``INTERRUPTED`` found, ``(urn, doing)`` each, and the way on from it."""
    listed = ", ".join(f"{urn.rsplit('::', 1)[-1]} ({doing})" for urn, doing in operations)
    creates = any(doing == "creating" for _, doing in operations)
    fix = (f"terrane refresh {environment} --clear-pending-creates drops the unfinished creates from the state"
           if creates else f"terrane refresh {environment} reads them back from the cloud")
    return (f"an earlier run was killed while changing {listed}: they may exist in the cloud but not in the state. "
            f"Check them in the cloud (delete or import what exists); then {fix}.")


def condensed(message: str) -> str:
    """An engine diagnostic without a program's Python traceback: what happened, then the exception."""
    head, traceback, rest = message.partition("Traceback (most recent call last):")
    if not traceback:
        return message.strip()
    last = [line.strip() for line in rest.splitlines() if line.strip()]
    return " ".join(part for part in (head.strip(), last[-1] if last else "") if part)


def error_lines(exc: Exception) -> str:
    """The CLI's own error lines, without the stdout/stderr dump of the exception's text, as one message.

    An error that gathers several (``2 errors occurred:``) lists them on the lines after it, one
    ``1) reason`` (or ``* reason``) each: they name the file and the cause, and follow it, joined by ``; ``.
    """
    # The text is " code: N\n stdout: ...\n stderr: ...": the streams' first lines carry a label.
    lines = [line.strip().removeprefix("stdout: ").removeprefix("stderr: ") for line in str(exc).splitlines()]
    errors: list[list[str]] = []
    gathering = False
    for line in lines:
        if line.startswith("error:"):
            errors.append([line.removeprefix("error: ")])
            gathering = bool(_GATHERED.search(line))
        elif gathering and _REASON.match(line):
            errors[-1].append(_REASON.sub("", line, count=1))
        elif line:
            gathering = False
    texts = [_gathered(error) for error in errors]
    return "; ".join(dict.fromkeys(texts)) or next((line for line in reversed(lines) if line), "the Pulumi CLI failed")


# The heading of several errors, the CLI's ("    1) reason") or go-multierror's ("\t* reason").
_GATHERED = re.compile(r"\d+ errors? occurred:$")
_REASON = re.compile(r"^(\* |\d+\) )")


def _gathered(error: list[str]) -> str:
    """``ENV: 2 errors occurred:`` and its reasons as ``ENV: reason; reason``."""
    head, reasons = error[0], list(dict.fromkeys(error[1:]))
    if not reasons:
        return head
    return f"{_GATHERED.sub('', head).rstrip()} {'; '.join(reasons)}".strip()
