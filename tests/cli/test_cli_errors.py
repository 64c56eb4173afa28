"""What a newcomer's first mistakes on the command line get: a name for the environment they meant, the --help of
the command they ran, a word on which program ``plan`` renders, and a quiet end when the reader of the output
goes away."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers.project import REPO, SampleProject

CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for git or cat whose reader went away


@pytest.mark.parametrize("typed", ["aws-dev.yaml", "aws-dev.yml", "environments/aws-dev.yaml", "./environments/aws-dev"])
@pytest.mark.parametrize("command", [("plan",), ("envs", "validate"), ("audit",), ("outputs",), ("cancel",)])
def test_an_environment_named_by_its_file_suggests_its_name(sample: SampleProject, cli, command: tuple[str, ...],
                                                            typed: str) -> None:
    result = cli("--project", sample.root, *command, typed)
    assert (result.code, result.stdout) == (3, ""), result.stderr
    assert result.stderr == (f"error: unknown environment '{typed}': an environment is named by its file's stem; "
                             f"did you mean aws-dev?\n")


@pytest.mark.parametrize("typed", ["aws-dve", "awsdev", "aws_dev", "Aws-Dev"])
def test_a_mistyped_environment_gets_a_did_you_mean(sample: SampleProject, cli, typed: str) -> None:
    result = cli("--project", sample.root, "plan", typed)
    assert (result.code, result.stdout) == (3, "")
    assert result.stderr == (f"error: unknown environment '{typed}': there is no environments/{typed}.yaml; "
                             f"did you mean aws-dev? (known: aws-dev, azure-dev, gcp-dev)\n")


def test_an_environment_like_none_gets_no_guess(sample: SampleProject, cli) -> None:
    result = cli("--project", sample.root, "plan", "aws-prod")
    assert result.code == 3
    assert "did you mean" not in result.stderr and "(known: aws-dev, azure-dev, gcp-dev)" in result.stderr


def test_a_path_out_of_environments_is_not_followed(sample: SampleProject, cli) -> None:
    """``../environments/aws-dev`` would reach the file by a path: an environment is a name, not a path."""
    result = cli("--project", sample.root, "plan", "../environments/aws-dev")
    assert result.code == 3
    assert "did you mean aws-dev?" in result.stderr


@pytest.mark.parametrize(("command", "missing", "help_of"), [
    (("accounts", "bootstrap", "aws"), "option '--trusted-principal'", "terrane accounts bootstrap aws"),
    (("accounts", "bootstrap", "gcp", "--region", "europe-west1"), "option '--project'", "terrane accounts bootstrap gcp"),
    (("accounts", "link", "aws", "team"), "option '--account-id'", "terrane accounts link aws"),
    (("adopt",), "argument 'ENV'", "terrane adopt"),
])
def test_a_missing_flag_points_to_its_commands_help(cli, command: tuple[str, ...], missing: str, help_of: str) -> None:
    result = cli(*command)
    assert (result.code, result.stdout) == (3, "")
    assert result.stderr == f"error: Missing {missing}. See '{help_of} --help'.\n"
    assert cli(*help_of.split()[1:], "--help").code == 0


@pytest.mark.parametrize("command", [(), ("accounts",), ("envs",), ("state",)])
def test_a_command_group_alone_shows_its_help(cli, command: tuple[str, ...]) -> None:
    result = cli(*command)
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout.startswith(f"Usage: {' '.join(('terrane', *command))} [OPTIONS]")
    assert result.stdout == cli(*command, "--help").stdout


def test_plan_says_it_renders_terranes_own_program(cli) -> None:
    result = cli("--project", REPO, "--program", "nosuch:x", "plan", "aws-dev", "--json")
    assert result.code == 0
    assert ("note: terrane plan renders terrane's own program, not nosuch:x (--program or TERRANE_PROGRAM), which "
            "only the stack commands run") in result.stderr
    assert '"environment": "aws-dev"' in result.stdout


def test_plan_of_the_default_program_has_no_note(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERRANE_PROGRAM", raising=False)
    result = cli("--project", REPO, "plan", "aws-dev", "--json")
    assert result.code == 0 and "note:" not in result.stderr


@pytest.mark.parametrize("args", [("plan", "aws-dev"), ("plan", "aws-dev", "--json"), ("envs", "list")])
def test_a_reader_that_goes_away_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    """As ``terrane plan aws-dev | head -1``: the reader has gone by the time terrane writes."""
    run = subprocess.Popen([sys.executable, "-m", "terrane", "--project", str(REPO), *args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert run.stdout is not None
    run.stdout.close()
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == CLOSED_PIPE, stderr
    assert "error" not in stderr and "Traceback" not in stderr and "Exception ignored" not in stderr


def test_head_reads_the_first_line_and_terrane_ends_quietly() -> None:
    shell = subprocess.run(["bash", "-o", "pipefail", "-c",
                            f"{sys.executable} -m terrane --project {REPO} plan aws-dev | head -1"],
                           capture_output=True, text=True, timeout=120, check=False)
    assert shell.stdout == "aws-dev: aws, account aws-sandbox, region us-east-1\n"
    assert shell.returncode in (0, CLOSED_PIPE)  # 0 when all of it fit in the pipe before head closed it
    assert "error" not in shell.stderr and "Traceback" not in shell.stderr
