"""Registries linked in accounts.yaml: how they are validated, and the scoped pull access a cluster that names them gets."""

from __future__ import annotations

import json

import pytest

from terrane.engine.errors import SpecError
from terrane.engine.offline.render import Plan, plan
from terrane.engine.project import open_project
from tests.helpers.project import REPO, SampleProject

BOUNDARY = "arn:aws:iam::123456789012:policy/terrane/terrane-boundary"


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    project = open_project(REPO)
    return {name: plan(project, name) for name in ("aws-dev", "azure-dev", "gcp-dev")}


def _problems(sample: SampleProject, env: str = "aws-dev") -> list[str]:
    with pytest.raises(SpecError) as raised:
        open_project(sample.root).environment(env)
    return raised.value.problems


def test_the_sample_clusters_pull_from_their_linked_registries_only(plans: dict[str, Plan]) -> None:
    aws = plans["aws-dev"]
    (pull,) = [r for r in aws.resources if r.type == "aws:iam/rolePolicy:RolePolicy" and r.name == "aws-dev-node-pull"]
    resources = {s["Sid"]: s["Resource"] for s in json.loads(pull.inputs["policy"])["Statement"]}
    assert resources["PullLinkedRepositories"] == ["arn:aws:ecr:us-east-1:123456789012:repository/platform/web",
                                                   "arn:aws:ecr:us-east-1:123456789012:repository/platform/worker"]
    attached = [r.inputs["policyArn"] for r in aws.resources if r.type.endswith("rolePolicyAttachment:RolePolicyAttachment")]
    assert not any(arn.endswith("AmazonEC2ContainerRegistryReadOnly") for arn in attached)

    azure = plans["azure-dev"]
    (acr_pull,) = [r for r in azure.resources if r.type == "azure-native:authorization:RoleAssignment"
                   and r.inputs["roleDefinitionId"].endswith("/7f951dda-4ed3-4680-a7ca-43fe172d538d")]
    assert acr_pull.inputs["scope"] == ("/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/images"
                                        "/providers/Microsoft.ContainerRegistry/registries/sandboximages")
    (cluster,) = [r for r in azure.resources if r.type == "azure-native:containerservice:ManagedCluster"]
    assert cluster.urn in acr_pull.depends_on  # the kubelet identity is the cluster's

    gcp = plans["gcp-dev"]
    (member,) = [r for r in gcp.resources if r.type == "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"]
    assert {key: member.inputs[key] for key in ("project", "location", "repository", "role")} == {
        "project": "sandbox-project-123", "location": "europe-west1", "repository": "platform",
        "role": "roles/artifactregistry.reader"}
    project_roles = [r.inputs["role"] for r in gcp.resources if r.type == "gcp:projects/iAMMember:IAMMember"]
    assert "roles/artifactregistry.reader" not in project_roles


def test_every_iam_role_of_an_aws_environment_carries_the_accounts_boundary(plans: dict[str, Plan]) -> None:
    roles = [r for r in plans["aws-dev"].resources if r.type == "aws:iam/role:Role"]
    assert {r.name for r in roles} == {"aws-dev-flow-logs", "aws-dev-cluster", "aws-dev-node", "aws-dev-reader"}
    assert {r.inputs.get("permissionsBoundary") for r in roles} == {BOUNDARY}


def test_plan_shows_the_scoped_pull_access_on_each_cloud(sample: SampleProject, cli) -> None:
    shown = {env: cli("--project", sample.root, "plan", env).stdout for env in ("aws-dev", "azure-dev", "gcp-dev")}
    assert "arn:aws:ecr:us-east-1:123456789012:repository/platform/web" in shown["aws-dev"]
    assert f"permissionsBoundary: {BOUNDARY}" in shown["aws-dev"]
    assert "scope: /subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/images/providers/" \
           "Microsoft.ContainerRegistry/registries/sandboximages" in shown["azure-dev"]
    assert "repository: platform" in shown["gcp-dev"]


def test_an_unknown_registry_is_named_with_the_ones_linked(sample: SampleProject) -> None:
    sample.edit_env("aws-dev", lambda env: env["cluster"].update(registries=["aws-images", "nope"]))
    assert _problems(sample) == [
        ("environments/aws-dev.yaml: cluster.registries[1]: unknown registry 'nope' "
        "(accounts.yaml registries: aws-images, azure-images, gcp-images)")]


def test_a_registry_of_another_cloud_is_refused(sample: SampleProject) -> None:
    sample.edit_env("aws-dev", lambda env: env["cluster"].update(registries=["gcp-images"]))
    assert _problems(sample) == [
        ("environments/aws-dev.yaml: cluster.registries[0]: registry 'gcp-images' is on gcp; "
        "a cluster on aws pulls only from aws registries")]


def test_a_registry_named_twice_is_refused(sample: SampleProject) -> None:
    sample.edit_env("aws-dev", lambda env: env["cluster"].update(registries=["aws-images", "aws-images"]))
    assert _problems(sample) == ["environments/aws-dev.yaml: cluster.registries: duplicate registry 'aws-images'"]


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda r: r["aws-images"].update(repositories=["Platform/Web"]),
     "registries.aws-images.repositories[0]: must be an ECR repository name"),
    (lambda r: r["aws-images"].update(repositories=[]),
     "registries.aws-images.repositories: List should have at least 1 item"),
    (lambda r: r["azure-images"].update(name="acr"), "registries.azure-images.name: must be a registry name"),
    (lambda r: r["gcp-images"].update(repository="Platform"), "registries.gcp-images.repository: must be a repository id"),
    (lambda r: r["gcp-images"].update(cloud="kubernetes"), "registries.gcp-images.cloud: must be one of aws, azure, gcp"),
    (lambda r: r.update({"aws-sandbox": r["aws-images"]}),
     "registries.aws-sandbox: 'aws-sandbox' is an account's name too; give the registry another"),
    (lambda r: r["aws-images"]["auth"].update(profile="x"),
     "registries.aws-images.auth: exactly one of assume_role, profile, static is required"),
])
def test_bad_registries_name_the_field(sample: SampleProject, edit, problem: str) -> None:
    accounts = sample.load_accounts()
    edit(accounts["registries"])
    sample.write_accounts(accounts)
    with pytest.raises(SpecError) as raised:
        open_project(sample.root).registries  # noqa: B018
    assert any(line.startswith(f"accounts.yaml: {problem}") for line in raised.value.problems), raised.value.problems


def test_a_boundary_of_another_account_is_refused(sample: SampleProject) -> None:
    accounts = sample.load_accounts()
    accounts["accounts"]["aws-sandbox"]["permissions_boundary"] = "arn:aws:iam::999999999999:policy/terrane/b"
    sample.write_accounts(accounts)
    with pytest.raises(SpecError) as raised:
        open_project(sample.root).accounts  # noqa: B018
    assert raised.value.problems == [
        "accounts.yaml: accounts.aws-sandbox: permissions_boundary: must be a policy of account 123456789012"]


def test_an_environment_built_outside_the_project_loader_says_so() -> None:
    env = open_project(REPO).environment("aws-dev")
    bare = type(env).model_validate(env.model_dump(mode="json"))
    with pytest.raises(ValueError, match="were not resolved; load the environment with Project.environment"):
        bare.registries  # noqa: B018
    assert set(env.registries) == {"aws-images"}
