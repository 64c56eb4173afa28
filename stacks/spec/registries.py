"""``registries:`` in ``accounts.yaml``: container registries a project links, each with a pull-only identity.

A registry is linked like an account (a cloud, where it lives, and how terrane
signs in to it), and an environment's cluster names the registries it pulls
from. The identity is for terrane itself (``accounts verify`` proves it can
pull and not push); clusters get their own pull access, scoped to exactly the
named repositories or registry.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from terrane.stacks.spec import (
    ACR_NAME,
    ARTIFACT_REPOSITORY,
    AZURE_RESOURCE_GROUP,
    ECR_REPOSITORY,
    GCP_PROJECT,
    Spec,
    matching,
    no_duplicates,
)
from terrane.stacks.spec.accounts import AwsAuth, AzureAuth, GcpAuth, Uuid
from terrane.stacks.spec.regions import ArtifactRegistryLocation, AwsRegion

EcrRepository = Annotated[
    str,
    matching(ECR_REPOSITORY,
             "must be an ECR repository name: 2 to 256 lowercase letters, digits and '.', '_', '-' or '/' "
             "between them (like team/web)"),
]


class EcrRegistry(Spec):
    """Repositories of an account's private ECR registry, in one region."""

    cloud: Literal["aws"]
    account_id: Annotated[str, matching(r"\d{12}", "must be the 12 digits of an AWS account id")]
    region: AwsRegion
    repositories: Annotated[list[EcrRepository], Field(min_length=1)]
    auth: AwsAuth

    @field_validator("repositories")
    @classmethod
    def _unique(cls, repositories: list[str]) -> list[str]:
        no_duplicates(repositories, "repository")
        return repositories

    @property
    def scope_id(self) -> str:
        return self.account_id

    @property
    def location(self) -> str:
        return self.region

    def repository_arns(self, partition: str = "aws") -> list[str]:
        """What a cluster may pull: exactly these repositories."""
        return [f"arn:{partition}:ecr:{self.region}:{self.account_id}:repository/{name}" for name in self.repositories]

    @property
    def targets(self) -> list[str]:
        return [f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com/{name}" for name in self.repositories]


class AcrRegistry(Spec):
    """An Azure Container Registry."""

    cloud: Literal["azure"]
    tenant_id: Uuid
    subscription_id: Uuid
    resource_group: Annotated[str, matching(AZURE_RESOURCE_GROUP,
                                            "must be a resource group name: 1 to 90 letters, digits, "
                                            "'-', '_', '.', '(' or ')', not ending with '.'", any_script=True)]
    name: Annotated[str, matching(ACR_NAME, "must be a registry name: 5 to 50 letters and digits")]
    auth: AzureAuth

    @property
    def scope_id(self) -> str:
        return self.subscription_id

    @property
    def location(self) -> str:
        return "global"

    @property
    def resource_id(self) -> str:
        """The ARM id a role assignment is scoped to."""
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.ContainerRegistry/registries/{self.name}")

    @property
    def targets(self) -> list[str]:
        return [f"{self.name.lower()}.azurecr.io"]


class ArtifactRegistry(Spec):
    """A Docker repository of Google Artifact Registry."""

    cloud: Literal["gcp"]
    project: Annotated[str, matching(GCP_PROJECT,
                                     "must be a GCP project id: 6 to 30 lowercase letters, digits or '-', "
                                     "starting with a letter and not ending with '-'")]
    location: ArtifactRegistryLocation
    repository: Annotated[str, matching(ARTIFACT_REPOSITORY,
                                        "must be a repository id: 1 to 63 lowercase letters, digits or '-', "
                                        "starting with a letter and not ending with '-'")]
    auth: GcpAuth

    @property
    def scope_id(self) -> str:
        return self.project

    @property
    def targets(self) -> list[str]:
        return [f"{self.location}-docker.pkg.dev/{self.project}/{self.repository}"]


Registry = EcrRegistry | AcrRegistry | ArtifactRegistry
REGISTRY_MODELS: dict[str, type[Registry]] = {"aws": EcrRegistry, "azure": AcrRegistry, "gcp": ArtifactRegistry}
REGISTRY_KINDS = {"aws": "ECR", "azure": "ACR", "gcp": "Artifact Registry"}
