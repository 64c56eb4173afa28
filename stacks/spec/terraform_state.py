"""An existing network's Terraform state: which backend keeps it, where, whom terrane reads it as, and which of
its outputs hold the network's ids (``network.terraform_state`` of an environment).

Credentials never go in an environment file: the settings that would hold one are refused, and their values are
neither kept nor repeated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from terrane.stacks.spec import AZURE_RESOURCE_GROUP, UUID, Region, Spec, matching
from terrane.stacks.spec.regions import region_problem


def refused(words: str) -> BeforeValidator:
    """A setting the spec knows and never takes: ``words`` say why. Its value is neither kept nor repeated."""

    def refuse(value: Any) -> Any:
        raise PydanticCustomError("refused", words)

    return BeforeValidator(refuse)


_NOT_SAVED = "credentials never go in an environment file (the value was not saved or shown): "
_AWS_CREDENTIALS = _NOT_SAVED + ("the state is read with the AWS credentials terrane's run has; choose the identity "
                                 "with role_arn (and external_id) or profile")
_AZURE_CREDENTIALS = _NOT_SAVED + ("the state is read with Microsoft Entra ID: use_azuread_auth with the Azure CLI's "
                                   "login, use_msi (a managed identity) or use_oidc with oidc_token_file_path")
_REMOTE_CREDENTIALS = _NOT_SAVED + ("the token is read from the Terraform CLI's credentials file, which "
                                    "`terraform login` writes (~/.terraform.d/credentials.tfrc.json)")

Setting = Annotated[str, StringConstraints(min_length=1)]
Refused = Annotated[str | None, Field(exclude=True)]
"""A setting that is always refused: never serialized, so that a dumped spec validates again."""
StatePath = Annotated[str, matching(r"[^\x00-\x1f\x7f]+", "must be a path: at least one character, and no control "
                                                           "characters")]


class S3StateConfig(Spec):
    """pulumi-terraform's ``get_s3_reference``: where the state is, and whom to read it as."""

    bucket: Setting
    key: Setting
    region: Region
    workspace: Setting | None = None
    workspace_key_prefix: Setting | None = None
    role_arn: Setting | None = None
    external_id: Setting | None = None
    session_name: Setting | None = None
    assume_role_duration_seconds: Annotated[StrictInt, Field(ge=900, le=43200)] | None = None
    assume_role_policy: Setting | None = None
    assume_role_policy_arns: list[Setting] | None = None
    assume_role_tags: dict[str, str] | None = None
    assume_role_transitive_tag_keys: list[Setting] | None = None
    profile: Setting | None = None
    shared_credentials_file: StatePath | None = None
    endpoint: Setting | None = None
    iam_endpoint: Setting | None = None
    sts_endpoint: Setting | None = None
    force_path_style: StrictBool | None = None
    encrypt: StrictBool | None = None
    kms_key_id: Setting | None = None
    max_retries: Annotated[StrictInt, Field(ge=0, le=100)] | None = None
    skip_credentials_validation: StrictBool | None = None
    skip_metadata_api_check: StrictBool | None = None
    skip_region_validation: StrictBool | None = None
    access_key: Annotated[Refused, refused(_AWS_CREDENTIALS)] = None
    secret_key: Annotated[Refused, refused(_AWS_CREDENTIALS)] = None
    token: Annotated[Refused, refused(_AWS_CREDENTIALS)] = None
    sse_customer_key: Annotated[Refused, refused(_AWS_CREDENTIALS)] = None

    @model_validator(mode="after")
    def _aws_region(self) -> S3StateConfig:
        """An AWS region, as Terraform's S3 backend checks it: unless the bucket is elsewhere (endpoint, an S3-compatible
        store) or skip_region_validation says so."""
        problem = None if self.endpoint or self.skip_region_validation else region_problem("aws", self.region)
        if problem:
            raise PydanticCustomError("region", "region: {problem} (or set endpoint, for an S3-compatible store)",
                                      {"problem": problem})
        return self

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class AzurermStateConfig(Spec):
    """pulumi-terraform's ``get_azure_rm_reference``: where the state is, and whom to read it as."""

    storage_account_name: Annotated[str, matching(r"[a-z0-9]{3,24}", "must be a storage account's name: 3 to 24 "
                                                                     "lowercase letters and digits")]
    container_name: Setting
    key: Setting
    workspace: Setting | None = None
    resource_group_name: Annotated[str, matching(AZURE_RESOURCE_GROUP, "must be a resource group's name",
                                                          any_script=True)] | None = None
    subscription_id: Annotated[str, matching(UUID, "must be a subscription id (a UUID)")] | None = None
    tenant_id: Annotated[str, matching(UUID, "must be a tenant id (a UUID)")] | None = None
    client_id: Annotated[str, matching(UUID, "must be a client id (a UUID)")] | None = None
    use_azuread_auth: StrictBool | None = None
    use_msi: StrictBool | None = None
    msi_endpoint: Setting | None = None
    use_oidc: StrictBool | None = None
    oidc_token_file_path: StatePath | None = None
    oidc_request_url: Setting | None = None
    client_certificate_path: StatePath | None = None
    environment: Setting | None = None
    endpoint: Setting | None = None
    metadata_host: Setting | None = None
    access_key: Annotated[Refused, refused(_AZURE_CREDENTIALS)] = None
    sas_token: Annotated[Refused, refused(_AZURE_CREDENTIALS)] = None
    client_secret: Annotated[Refused, refused(_AZURE_CREDENTIALS)] = None
    client_certificate_password: Annotated[Refused, refused(_AZURE_CREDENTIALS)] = None
    oidc_token: Annotated[Refused, refused(_AZURE_CREDENTIALS)] = None
    oidc_request_token: Annotated[Refused, refused(_AZURE_CREDENTIALS)] = None

    @property
    def where(self) -> str:
        return f"azurerm {self.storage_account_name}/{self.container_name}/{self.key}"


REMOTE_HOSTNAME = "app.terraform.io"


class RemoteWorkspaces(Spec):
    name: Setting
    prefix: Annotated[Refused, refused("pulumi-terraform reads one workspace, by its full name: set name "
                                       "instead")] = None


class RemoteStateConfig(Spec):
    """pulumi-terraform's ``get_remote_reference``: a workspace of HCP Terraform or Terraform Enterprise."""

    organization: Setting
    workspaces: RemoteWorkspaces
    hostname: Setting | None = None
    """``app.terraform.io`` unless set."""
    token: Annotated[Refused, refused(_REMOTE_CREDENTIALS)] = None

    @property
    def where(self) -> str:
        return f"remote workspace {self.hostname or REMOTE_HOSTNAME}/{self.organization}/{self.workspaces.name}"


class LocalStateConfig(Spec):
    """pulumi-terraform's ``get_local_reference``: a state file."""

    path: StatePath
    """Relative to the project directory (``Environment.in_project`` makes it absolute)."""
    workspace_dir: Annotated[Refused, refused("pulumi-terraform reads the default workspace, which is path itself: "
                                              "name that workspace's state file in path instead")] = None

    @property
    def where(self) -> str:
        return self.path

    def under(self, root: Path) -> LocalStateConfig:
        """This config with ``path`` resolved against ``root`` (an absolute path stays as it is)."""
        return self.model_copy(update={"path": str(root / self.path)})


TerraformOutputs = dict[str, Annotated[str, matching(r"[A-Za-z_][A-Za-z0-9_-]*",
                                                     "must be a Terraform output's name: letters, digits, '_' and "
                                                     "'-', starting with a letter or '_'")]]
"""terrane's name for what the components need (``vpc_id``) -> the Terraform output holding it; per cloud in
``stacks.rules``."""


class S3State(Spec):
    backend: Literal["s3"]
    config: S3StateConfig
    outputs: TerraformOutputs


class AzurermState(Spec):
    backend: Literal["azurerm"]
    config: AzurermStateConfig
    outputs: TerraformOutputs


class RemoteState(Spec):
    backend: Literal["remote"]
    config: RemoteStateConfig
    outputs: TerraformOutputs


class LocalState(Spec):
    backend: Literal["local"]
    config: LocalStateConfig
    outputs: TerraformOutputs


TerraformState = S3State | AzurermState | RemoteState | LocalState
_STATE_MODELS: dict[str, type[TerraformState]] = {
    "s3": S3State, "azurerm": AzurermState, "remote": RemoteState, "local": LocalState,
}
TERRAFORM_BACKENDS = tuple(_STATE_MODELS)
NO_GCS = ("pulumi-terraform cannot read gcs state yet (pulumi/pulumi-terraform#784): save it with "
          "`terraform state pull > FILE` and use backend: local, or keep it in an HCP Terraform workspace "
          "and use backend: remote")


def _backend(backend: str) -> str:
    if backend == "gcs":
        raise PydanticCustomError("gcs", NO_GCS)
    raise PydanticCustomError("backend", "must be one of {backends}", {"backends": ", ".join(TERRAFORM_BACKENDS)})


class _UnknownBackend(Spec):
    """What a state with no backend terrane reads is checked with: its backend, and nothing else."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    backend: Annotated[str, AfterValidator(_backend)]


def parse_terraform_state(value: Any) -> Any:
    """The state's model, picked by its backend: errors name the fields as written, with no union tag in the path."""
    if isinstance(value, TerraformState):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("terraform_state", "must be a mapping of backend, config and outputs")
    backend = value.get("backend")
    model = _STATE_MODELS.get(backend) if isinstance(backend, str) else None
    return (model or _UnknownBackend).model_validate(value)
