"""``terrane doctor``: one line per check, exit 1 when one fails, no secret shown."""

from __future__ import annotations

import json
from importlib import metadata

from tests.helpers.project import EXTERNAL_ID, STANDIN_SECRETS, SampleProject
from tests.standin import StandIn


def _checks(result) -> dict[str, dict[str, str]]:
    return {check["name"]: check for check in json.loads(result.stdout)["checks"]}


def test_a_ready_machine(sample: SampleProject, standin: StandIn, cli) -> None:
    standin.plugins([{"name": "aws", "version": metadata.version("pulumi-aws"), "kind": "resource"}])
    result = cli("doctor", "--json")
    assert result.code == 0, result.stdout
    checks = _checks(result)
    assert checks["pulumi cli"]["status"] == "ok" and "v3.205.0" in checks["pulumi cli"]["detail"]
    assert checks["backend"] == {"name": "backend", "status": "ok", "detail": (sample.root / ".terrane" / "state").as_uri()}
    assert checks["secrets provider"]["status"] == "ok"
    assert {checks[f"account {name}"]["status"] for name in ("aws-sandbox", "azure-sandbox", "gcp-sandbox")} == {"ok"}
    assert checks["plugin aws"]["status"] == "ok"
    assert checks["plugin gcp"]["status"] == "warn"
    for secret in STANDIN_SECRETS:
        assert secret not in result.stdout + result.stderr


def test_unresolvable_references_fail(standin: StandIn, cli, monkeypatch) -> None:
    monkeypatch.delenv("TERRANE_AWS_EXTERNAL_ID")
    result = cli("doctor")
    assert result.code == 1
    line = next(line for line in result.stdout.splitlines() if "account aws-sandbox" in line)
    assert line == ("fail account aws-sandbox: secret reference env:TERRANE_AWS_EXTERNAL_ID: "
                    "the environment variable TERRANE_AWS_EXTERNAL_ID is not set")
    assert EXTERNAL_ID not in result.stdout


def test_a_missing_cli_fails_with_how_to_install(standin: StandIn, cli, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("TERRANE_PULUMI_ROOT")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = cli("doctor", "--json")
    assert result.code == 1
    check = _checks(result)["pulumi cli"]
    assert check["status"] == "fail" and "terrane install-cli" in check["detail"]
    assert not any(name.startswith("plugin") for name in _checks(result))
