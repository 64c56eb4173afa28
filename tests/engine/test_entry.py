"""Plain `pulumi up -s ENV` runs the same program as terrane."""

from terrane.engine.entry import run
from terrane.engine.offline.render import PLAN_INCARNATION, plan, render
from terrane.engine.project import open_project
from terrane.stacks.standard import INCARNATION_KEY
from tests.helpers.project import REPO


def test_the_entry_program_is_the_environment_program(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    # The stack's config gives the entry program what terrane gave the stack: its incarnation, here plan's stand-in.
    rendered = render(run, project="terrane", stack="gcp-dev", account_id="sandbox-project-123", region="europe-west1",
                      config={INCARNATION_KEY: PLAN_INCARNATION})
    planned = plan(open_project(REPO), "gcp-dev")
    assert [(r.urn, r.inputs) for r in rendered.resources] == [(r.urn, r.inputs) for r in planned.resources]
