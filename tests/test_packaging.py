"""The wheel: one top-level package, ``terrane``, holding every module of engine/, stacks/ and components/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

from tests.helpers.project import REPO

# Where each package of the namespace lives in the repository.
ROOTS = {"terrane": "terrane", "terrane.engine": "engine", "terrane.stacks": "stacks",
         "terrane.components": "components"}


def _packages_in_the_tree() -> set[str]:
    found = set()
    for package, directory in ROOTS.items():
        for init in (REPO / directory).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / directory)
            found.add(".".join([package, *relative.parts]))
    return found


def test_pyproject_lists_every_package_of_the_tree() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(config["packages"]) == _packages_in_the_tree()
    assert {package: directory for package, directory in config["package-dir"].items()} == {
        package: directory for package, directory in ROOTS.items() if package != "terrane"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of what it is made of (a build writes build/ and *.egg-info beside them)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for directory in ROOTS.values():
        shutil.copytree(REPO / directory, source / directory, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                           capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    [found] = out.glob("terrane-*.whl")
    return found


def test_the_wheel_holds_one_namespace_and_every_module(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"terrane", wheel.name.split("-py")[0] + ".dist-info"}
    expected = {
        f"{package.replace('.', '/')}/{path.relative_to(REPO / directory).as_posix()}"
        for package, directory in ROOTS.items() for path in (REPO / directory).rglob("*.py")
    }
    assert expected <= set(names)


def test_installed_in_a_clean_venv_nothing_shadows_it(wheel: Path, tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                               capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr
    # A project of the user's with folders named like terrane's directories, and the run inside it.
    project = tmp_path / "project"
    for name in ("engine", "stacks", "components"):
        (project / name).mkdir(parents=True)
        (project / name / "__init__.py").write_text("raise ImportError('the project own folder')\n")
    probe = ("import importlib.util, terrane, terrane.engine.errors;"
             "print(terrane.__file__);"
             "print([name for name in ('engine', 'stacks', 'components') if importlib.util.find_spec(name) is None])")
    ran = subprocess.run([str(python), "-P", "-c", probe], cwd=project, capture_output=True, text=True, check=False,
                         env={"PATH": "/usr/bin:/bin"})
    assert ran.returncode == 0, ran.stderr
    where, missing = ran.stdout.splitlines()
    assert str(env) in where
    assert missing == "['engine', 'stacks', 'components']"  # no top-level name but terrane in site-packages


def test_a_project_made_by_init_plans_with_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    """What the README promises after ``pip install``: ``terrane init DIR``, then ``terrane plan example`` in it."""
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    installed = subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                               capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr
    # The dependencies come from the test venv (a path appended after the clean venv's own site-packages,
    # whose .pth files are not read): terrane itself comes from the wheel alone.
    [site] = (env / "lib").glob("python3*/site-packages")
    [dependencies] = {Path(path) for path in sys.path if path.endswith("site-packages") and "pulumi" in
                      {child.name for child in Path(path).iterdir()}}
    (site / "dependencies.pth").write_text(f"{dependencies}\n")
    terrane = str(env / "bin" / "terrane")
    clean = {"PATH": f"{env / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    made = subprocess.run([terrane, "init", "infra"], cwd=tmp_path, capture_output=True, text=True, check=False,
                          env=clean)
    assert made.returncode == 0, made.stderr
    planned = subprocess.run([terrane, "plan", "example", "--json"], cwd=tmp_path / "infra", capture_output=True,
                             text=True, check=False, env=clean)
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["environment"] == "example"
    assert any(resource["type"] == "terrane:aws:Cluster" for resource in plan["resources"])
    assert all(str(REPO) not in module for module in _loaded_from(env, tmp_path / "infra"))


def _loaded_from(env: Path, project: Path) -> list[str]:
    """Where the installed terrane's modules load from, imported as the CLI imports them."""
    probe = ("import sys, terrane.engine.cli, terrane.engine.offline.render;"
             "print('\\n'.join(m.__file__ for n, m in sys.modules.items() if n.startswith('terrane') and m.__file__))")
    ran = subprocess.run([str(env / "bin" / "python"), "-P", "-c", probe], cwd=project, capture_output=True,
                         text=True, check=True)
    assert ran.stdout.strip()
    return ran.stdout.splitlines()


def test_python_dash_m_terrane_is_the_cli(tmp_path: Path) -> None:
    ran = subprocess.run([sys.executable, "-m", "terrane", "--version"], cwd=tmp_path, capture_output=True,
                         text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("terrane, version ")
