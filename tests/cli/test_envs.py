import json
import subprocess
import sys

from tests.helpers.project import REPO, SampleProject


def test_list_json(sample: SampleProject, cli) -> None:
    result = cli("--project", sample.root, "envs", "list", "--json")
    assert result.code == 0
    assert json.loads(result.stdout) == {
        "schema_version": 1,
        "environments": [
            {"name": "aws-dev", "account": "aws-sandbox", "cloud": "aws", "region": "us-east-1", "valid": True, "error": None},
            {"name": "azure-dev", "account": "azure-sandbox", "cloud": "azure", "region": "westeurope", "valid": True, "error": None},
            {"name": "gcp-dev", "account": "gcp-sandbox", "cloud": "gcp", "region": "europe-west1", "valid": True, "error": None},
        ],
    }


def test_list_shows_invalid_environments_too(sample: SampleProject, cli) -> None:
    sample.edit_env("aws-dev", lambda data: data.update(account="nope"))
    result = cli("--project", sample.root, "envs", "list")
    assert result.code == 0
    assert "aws-dev" in result.stdout
    assert "invalid: environments/aws-dev.yaml: account: unknown account 'nope'" in result.stdout


def test_project_from_environment_variable(sample: SampleProject, cli, monkeypatch) -> None:
    monkeypatch.setenv("TERRANE_PROJECT", str(sample.root))
    result = cli("envs", "validate")
    assert (result.code, result.stdout) == (0, "aws-dev: valid\nazure-dev: valid\ngcp-dev: valid\n")


def test_validate_json_lists_every_problem(sample: SampleProject, cli) -> None:
    sample.edit_env("aws-dev", lambda data: data["network"].update(zones=9, nat="sometimes"))
    result = cli("--project", sample.root, "envs", "validate", "aws-dev", "--json")
    assert result.code == 3
    (report,) = json.loads(result.stdout)["environments"]
    assert report["valid"] is False
    assert [line.split(": ")[1] for line in report["problems"]] == ["network.zones", "network.nat"]


def test_help_imports_no_pulumi_sdk() -> None:
    probe = (
        "import sys\n"
        "from terrane.engine.cli import main\n"
        "assert main(['--help']) == 0\n"
        "assert main(['envs', '--help']) == 0\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi'))\n"
        "print(loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
