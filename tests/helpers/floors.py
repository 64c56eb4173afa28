"""The lowest versions pyproject.toml admits, and the venv that holds them (``tools/floors/venv``).

The floors are read from pyproject.toml here, on their own, not taken from the tool, so each checks
the other. ``TERRANE_FLOOR_VENV`` names the venv (``.ci/run`` exports it); without it the tests
that need it skip and say why, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tomllib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.version import Version

from terrane.engine.cli import main
from tests.helpers.project import REPO, Result

VENV_ENV = "TERRANE_FLOOR_VENV"
TOOL = REPO / "tools" / "floors" / "venv"
TIMEOUT = 600
"""Longer than the floors' terrane takes to render every environment of a project, however loaded the machine."""


def floors() -> dict[str, Version]:
    """Each runtime dependency, named as pyproject.toml names it, and its floor: the version of its ``>=`` bound."""
    found = {}
    for text in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        requirement = Requirement(text)
        lowest = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
        assert len(lowest) == 1, f"{text!r} has no floor (one >= bound)"
        found[requirement.name] = lowest[0]
    return found


def find() -> Path | str:
    """The floors' venv, or why there is none."""
    if not os.environ.get(VENV_ENV):
        return f'needs the floors\' venv: export {VENV_ENV}="$({TOOL.relative_to(REPO)} | tail -n1)"'
    root = Path(os.environ[VENV_ENV])
    return root if (root / "bin" / "terrane").is_file() else f"{VENV_ENV}={root} has no bin/terrane"


def at_floors(venv: Path, *args: str | Path) -> Result:
    """``terrane ARGS...`` run by the floors' venv, in a process of its own that sees nothing of the operator's."""
    ran = subprocess.run([str(venv / "bin" / "terrane"), *map(str, args)], capture_output=True, text=True,
                         check=False, timeout=TIMEOUT, env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin"})
    return Result(ran.returncode, ran.stdout, ran.stderr)


def newest(*args: str | Path) -> Result:
    """``terrane ARGS...`` run in this process, by the versions the test venv holds (pip's newest)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(arg) for arg in args])
    return Result(code, out.getvalue(), err.getvalue())


def differences(floor: Any, latest: Any) -> list[str]:
    """What differs between the floors' plans and the newest versions' (``--json`` documents), a line for each."""
    ours, theirs = _by_environment(floor), _by_environment(latest)
    found = [f"{env}: planned by one side only" for env in sorted(ours.keys() ^ theirs.keys())]
    for env in sorted(ours.keys() & theirs.keys()):
        found += [f"{env}: {key} differs" for key in _changed(ours[env], theirs[env]) if key != "resources"]
        resources = _by_urn(ours[env]["resources"]), _by_urn(theirs[env]["resources"])
        for urn in sorted(resources[0].keys() | resources[1].keys()):
            old, new = resources[0].get(urn), resources[1].get(urn)
            if old is None or new is None:
                found.append(f"{env}: {urn}: only at {'the newest versions' if old is None else 'the floors'}")
                continue
            changed = [f"inputs.{key}" for key in _changed(old["inputs"], new["inputs"])]
            changed += [key for key in _changed(old, new) if key != "inputs"]
            found += [f"{env}: {urn}: {', '.join(changed)} differ"] if changed else []
    return found


def _changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def _by_environment(document: Any) -> dict[str, dict[str, Any]]:
    return {plan["environment"]: plan for plan in (document if isinstance(document, list) else [document])}


def _by_urn(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {resource["urn"]: resource for resource in resources}


def python_at_floors(venv: Path, code: str, *args: str) -> str:
    """What ``python -c CODE ARGS...`` prints, run by the floors' venv."""
    ran = subprocess.run([str(venv / "bin" / "python"), "-c", code, *args], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.strip()


def installed(venv: Path, names: list[str]) -> dict[str, str]:
    """The version of each distribution in ``names`` that the floors' venv holds."""
    code = "import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    return json.loads(python_at_floors(venv, code, *names))
