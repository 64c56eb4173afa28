"""``terrane init``: a project that plans at once, and nothing ever overwritten."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml


def test_a_new_project_plans_offline_at_once(tmp_path: Path, cli) -> None:
    project = tmp_path / "acme infra"
    created = cli("init", project)
    assert created.code == 0, created.stderr
    assert {path.relative_to(project).as_posix() for path in project.rglob("*") if path.is_file()} == {
        "Pulumi.yaml", "__main__.py", "accounts.yaml", "environments/example.yaml", ".gitignore"}
    assert yaml.safe_load((project / "Pulumi.yaml").read_text())["name"] == "acme-infra"
    assert ".terrane/" in (project / ".gitignore").read_text().splitlines()
    # Plain `pulumi up -s ENV` runs terrane's program through the installed package.
    imported = ast.parse((project / "__main__.py").read_text()).body[1]
    assert isinstance(imported, ast.ImportFrom) and imported.module == "terrane.engine.entry"

    assert cli("--project", project, "envs", "validate").code == 0
    planned = cli("--project", project, "plan", "example", "--json")
    assert planned.code == 0, planned.stderr
    assert '"environment": "example"' in planned.stdout


def test_init_never_overwrites_and_writes_nothing_when_it_refuses(tmp_path: Path, cli) -> None:
    (tmp_path / "accounts.yaml").write_text("accounts: {}\n")
    refused = cli("init", tmp_path)
    assert refused.code == 3
    assert refused.stderr.strip().splitlines() == [
        (f"error: {tmp_path}: accounts.yaml already there; terrane init never overwrites a file: "
         "choose a new or empty directory")]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["accounts.yaml"]
    assert (tmp_path / "accounts.yaml").read_text() == "accounts: {}\n"
