"""Plain `pulumi up -s ENV` runs the same program as terrane."""

from engine.entry import run
from engine.offline import plan, render
from engine.project import open_project
from tests.conftest import REPO


def test_the_entry_program_is_the_environment_program(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    rendered = render(run, project="terrane", stack="gcp-dev", account_id="sandbox-project-123", region="europe-west1")
    planned = plan(open_project(REPO), "gcp-dev")
    assert [(r.urn, r.inputs) for r in rendered.resources] == [(r.urn, r.inputs) for r in planned.resources]
