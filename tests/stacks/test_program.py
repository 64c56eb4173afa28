"""The program's registry: one module for each cloud an account may be on, imported only when the program runs."""

from __future__ import annotations

import importlib
import subprocess
import sys
import typing

from terrane.stacks.program import PROGRAMS
from terrane.stacks.spec.accounts import Account
from tests.helpers.project import REPO


def test_every_cloud_an_account_names_has_a_program() -> None:
    clouds = {typing.get_args(model.model_fields["cloud"].annotation)[0] for model in typing.get_args(Account)}
    assert set(PROGRAMS) == clouds
    for module in PROGRAMS.values():
        assert callable(importlib.import_module(module).compose)


def test_building_a_program_loads_no_cloud_sdk() -> None:
    sdks = "{'pulumi_aws', 'pulumi_azure_native', 'pulumi_gcp', 'pulumi_kubernetes'}"
    code = ("import sys\n"
            "from terrane.engine.project import open_project\n"
            "from terrane.stacks.program import build_program\n"
            "project = open_project('.')\n"
            "for name in ('aws-dev', 'azure-dev', 'gcp-dev'):\n"
            "    env = project.environment(name)\n"
            "    build_program(env, project.account_for(env))\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sdks}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"
