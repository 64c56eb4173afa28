"""The GCP program's key rings: named for the stack's incarnation, or as before for a stack that has none."""

from __future__ import annotations

from terrane.engine.offline.render import PLAN_INCARNATION, plan, render
from terrane.engine.project import open_project
from terrane.stacks.program import build_program
from terrane.stacks.standard import INCARNATION_KEY
from tests.helpers.project import SampleProject

KEY_RING = "gcp:kms/keyRing:KeyRing"


def _key_rings(sample: SampleProject, config: dict[str, str]) -> list[str]:
    project = open_project(sample.root)
    env = project.environment("gcp-dev")
    account = project.account_for(env)
    rendered = render(build_program(env, account), project=project.pulumi_project, stack=env.name,
                      account_id=account.scope_id, region=env.resolved_region(account), config=config)
    return sorted(ring.inputs["name"] for ring in rendered.of_type(KEY_RING))


def test_key_rings_carry_the_stacks_incarnation(sample: SampleProject) -> None:
    assert _key_rings(sample, {INCARNATION_KEY: "0a1b2c3d"}) == ["gcp-dev-gke-0a1b2c3d", "gcp-dev-secrets-0a1b2c3d"]


def test_a_stack_made_before_incarnations_keeps_its_key_rings(sample: SampleProject) -> None:
    assert _key_rings(sample, {}) == ["gcp-dev-gke", "gcp-dev-secrets"]


def test_a_plan_shows_where_the_incarnation_goes(sample: SampleProject) -> None:
    document = plan(open_project(sample.root), "gcp-dev").to_dict()
    rings = sorted(r["inputs"]["name"] for r in document["resources"] if r["type"] == KEY_RING)
    assert rings == [f"gcp-dev-gke-{PLAN_INCARNATION}", f"gcp-dev-secrets-{PLAN_INCARNATION}"]
    keys = [r["inputs"]["keyRing"] for r in document["resources"] if r["type"] == "gcp:kms/cryptoKey:CryptoKey"]
    assert sorted(key.rsplit("/", 1)[-1] for key in keys) == rings
