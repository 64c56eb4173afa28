"""Lines of the GCP bootstrap's script: ``gcloud`` commands, every value shell-quoted, each safe to run again."""

from __future__ import annotations

import shlex


def command(*args: str) -> str:
    return shlex.join(["gcloud", *args])


def quiet(line: str) -> str:
    """``line`` without the policy it prints (add-iam-policy-binding prints the whole policy)."""
    return f"{line} >/dev/null"


def ensure(describe: list[str], create: list[str]) -> str:
    """Create only when ``describe`` finds nothing."""
    return f"{command(*describe)} >/dev/null 2>&1 || {command(*create)}"


def project_binding(project: str, member: str, role: str) -> str:
    # --condition=None: gcloud refuses an unconditional binding non-interactively once the policy has conditions.
    return quiet(command("projects", "add-iam-policy-binding", project, f"--member={member}", f"--role={role}",
                         "--condition=None"))
