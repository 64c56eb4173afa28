"""The gcloud script that prepares a GCP project for terrane.

``terrane accounts bootstrap gcp --project P --region R`` prints it; an owner
of the project runs it once (``bash terrane-bootstrap.sh``). It is a script of
exact ``gcloud`` commands because GCP has no native template format left to
use: Deployment Manager is deprecated (its pages announce the end of support
on December 31, 2025) and its successor, Infrastructure Manager, runs Terraform. Each step
can be run again: a resource is created only when ``describe`` does not find
it, bucket settings are re-applied with ``update``, and adding an IAM binding
that exists changes nothing. Every value is shell-quoted. The script:

- enables the APIs terrane's components use;
- creates the service accounts ``terrane-provisioner``, ``terrane-drift`` and,
  with ``--repository``, ``terrane-registry-reader``;
- creates terrane's state store in R: a KMS key ring ``terrane`` with the
  key ``terrane-state`` (rotated every 90 days; Cloud KMS ciphertexts name the
  key version, so Pulumi's ``gcpkms://`` secrets provider decrypts across
  rotations), and the bucket ``terrane-state-P`` (uniform bucket-level access,
  public access prevention, versioning, that key as its default key once the
  Cloud Storage service agent may use it);
- gives the provisioner the narrowest predefined roles that cover terrane's
  GCP components (``PROVISIONER_ROLES``, each with its reason), and read and
  write access to the state store (which Pulumi uses as whoever runs terrane:
  the provisioner, impersonated, or ``--member``);
- gives the drift account ``roles/viewer`` and ``roles/iam.securityReviewer``:
  Viewer reads the resources' configuration, and Security Reviewer adds every
  resource type's IAM policy (key, secret and repository bindings drift too).
  Neither reads a secret's payload or decrypts with a key;
- gives the registry reader ``roles/artifactregistry.reader`` on each
  ``--repository`` and nothing at project level;
- lets the provisioner set the IAM policy of each ``--repository`` (the GKE
  nodes pull from them through a binding terrane creates): a custom role
  ``terraneRepositoryIamAdmin`` with ``REPOSITORY_IAM_PERMISSIONS`` only,
  created in each repository's project and bound on each repository, nothing
  at project level. A project's custom roles can be granted only on it and
  its resources, so a repository of another project gets that project's own
  role; whoever runs the script needs the right to create roles there (Role
  Administrator) and to set the repository's IAM policy, as for its reader;
- with ``--member``: state store access, and the right to impersonate the
  provisioner and the drift account (Service Account Token Creator on each);
- ends by printing the ``TERRANE_BACKEND_URL`` and ``TERRANE_SECRETS_PROVIDER``
  to export and the ``terrane accounts link gcp`` command.

The provisioner cannot escalate through the project's IAM policy: it holds
Project IAM Admin only under an IAM condition,
``api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([...])``,
that lets it grant and revoke exactly the roles the components grant at
project level (``PROJECT_GRANTED_ROLES``, the GKE nodes' roles): Google's
"Set limits on granting roles",
https://cloud.google.com/iam/docs/setting-limits-on-granting-roles. The
components' other grants are on single resources, made through their service's
admin role: a key's encrypter/decrypter for a service agent (Cloud KMS Admin,
which cannot itself encrypt or decrypt) and a secret's accessor for workload
identities (Secret Manager Admin). Listing those roles in the condition would
let the provisioner grant them on the whole project, so they are not.

What GCP does not allow to narrow: attaching the nodes' service account to a
node pool needs ``iam.serviceAccounts.actAs`` on it, and that account is
created per environment, so Service Account User is granted on the project:
the provisioner may act as any service account of the project (keep accounts
with wider roles, such as a default compute account with Editor, out of
projects terrane provisions). Secret Manager Admin, the only predefined role
that creates secrets and sets their IAM policies, also reads secret versions.
With ``--repository``, the provisioner may change the IAM policy of those
repositories (and of no other), so it could grant itself or anyone any role on
them, such as pushing or deleting images: that is as narrow as GCP allows for
creating repository bindings. The ``modifiedGrantsByRole`` condition that
narrows its Project IAM Admin is documented for project, folder and
organization policies, and Artifact Registry repositories accept no
conditional role bindings at all (they are not among Google's "Resource types
that accept conditional role bindings",
https://cloud.google.com/iam/docs/resource-types-with-conditional-roles), so
the binding cannot be limited to granting ``roles/artifactregistry.reader``.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import NamedTuple

from terrane.engine.clouds.gcp.gcloud import command, ensure, project_binding, quiet
from terrane.engine.errors import InvalidInputError
from terrane.engine.store.paths import BACKEND_ENV, SECRETS_PROVIDER_ENV
from terrane.stacks.spec import ARTIFACT_REPOSITORY, GCP_PROJECT
from terrane.stacks.spec.regions import region_problem

SCRIPT_FILE = "terrane-bootstrap.sh"
REGION_ENV = "CLOUDSDK_COMPUTE_REGION"
KEY_RING = "terrane"
STATE_KEY = "terrane-state"
KEY_ROTATION_DAYS = 90
SERVICE_ACCOUNTS = {
    "provisioner": "terrane-provisioner",
    "drift": "terrane-drift",
    "registry": "terrane-registry-reader",
}

# Project ids: 6 to 30 lowercase letters, digits and hyphens, starting with a letter.
_PROJECT = re.compile(GCP_PROJECT, re.ASCII)
# An Artifact Registry repository id.
_REPOSITORY = re.compile(ARTIFACT_REPOSITORY, re.ASCII)
# An IAM principal: user:, group:, serviceAccount:, domain:, or a federated principal:// or principalSet://.
_MEMBER = re.compile(
    r"(user|group|serviceAccount):[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
    r"|domain:[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
    r"|principal(Set)?://iam\.googleapis\.com/[A-Za-z0-9._/:@*-]+",
    re.ASCII,
)


class Grant(NamedTuple):
    role: str
    why: str


# The provisioner's project roles: the narrowest predefined ones that cover the components.
PROVISIONER_ROLES = (
    Grant("roles/compute.networkAdmin",
          "the VPC, its subnet and secondary ranges, Cloud Router and Cloud NAT (no firewall rules: GKE makes its own)"),
    Grant("roles/container.admin",
          "GKE clusters and node pools, and their Kubernetes API for the bootstrap "
          "(roles/container.clusterAdmin cannot reach it)"),
    Grant("roles/cloudkms.admin",
          "key rings, rotating keys and their IAM policies (the service agents' grants); it cannot encrypt or decrypt"),
    Grant("roles/secretmanager.admin",
          "secrets and their IAM policies (workload identity readers); it also reads secret versions: no "
          "narrower predefined role creates secrets and sets their IAM policies"),
    Grant("roles/iam.serviceAccountCreator", "the GKE nodes' service account"),
    Grant("roles/iam.serviceAccountDeleter", "deleting it on destroy"),
    Grant("roles/iam.serviceAccountUser",
          "attaching the nodes' service account to node pools (iam.serviceAccounts.actAs)"),
)
PROJECT_IAM_ADMIN = "roles/resourcemanager.projectIamAdmin"
PROJECT_GRANTED_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)
"""The roles terrane's GCP components grant on the project (the GKE nodes'); a test keeps them equal."""
DRIFT_ROLES = ("roles/viewer", "roles/iam.securityReviewer")
REGISTRY_READER_ROLE = "roles/artifactregistry.reader"
REPOSITORY_IAM_ROLE_ID = "terraneRepositoryIamAdmin"
REPOSITORY_IAM_ROLE_TITLE = "terrane repository IAM admin"
REPOSITORY_IAM_PERMISSIONS = (
    "artifactregistry.repositories.get",
    "artifactregistry.repositories.getIamPolicy",
    "artifactregistry.repositories.setIamPolicy",
)
"""The provisioner's custom role on each ``--repository``: what granting the GKE nodes' reader on it needs."""
STATE_BUCKET_ROLE = "roles/storage.objectAdmin"
STATE_KEY_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
IMPERSONATION_ROLE = "roles/iam.serviceAccountTokenCreator"
APIS = (
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "cloudkms.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
)
REGISTRY_API = "artifactregistry.googleapis.com"


@dataclass(frozen=True)
class Repository:
    """An Artifact Registry repository: ``[PROJECT/]LOCATION/NAME`` on the command line."""

    project: str
    location: str
    name: str

    @classmethod
    def parse(cls, text: str, default_project: str) -> Repository:
        parts = text.split("/")
        if len(parts) == 2:
            parts.insert(0, default_project)
        if len(parts) != 3:
            raise InvalidInputError(f"--repository: {text!r} is not LOCATION/NAME or PROJECT/LOCATION/NAME")
        project, location, name = parts
        if not _PROJECT.fullmatch(project):
            raise InvalidInputError(f"--repository: {text!r}: {project!r} is not a project id")
        problem = region_problem("artifact-registry", location)  # a region, or a multi-region (us, europe, asia)
        if problem:
            raise InvalidInputError(f"--repository: {text!r}: {problem}")
        if not _REPOSITORY.fullmatch(name):
            raise InvalidInputError(
                f"--repository: {text!r}: {name!r} is not a repository id "
                "(lowercase letters, digits and hyphens, starting with a letter)"
            )
        return cls(project, location, name)

    @property
    def iam_role(self) -> str:
        """The provisioner's custom role on this repository, defined in the repository's own project."""
        return f"projects/{self.project}/roles/{REPOSITORY_IAM_ROLE_ID}"


@dataclass(frozen=True)
class Bootstrap:
    """What to prepare: the project, the state store's region, repositories to read, who runs terrane."""

    project: str
    region: str
    repositories: tuple[Repository, ...] = ()
    member: str | None = None
    """The principal that runs terrane (``serviceAccount:ci@...``, ``group:...``), if not the provisioner itself."""

    def __post_init__(self) -> None:
        if not _PROJECT.fullmatch(self.project):
            raise InvalidInputError(
                f"--project: {self.project!r} is not a project id "
                "(6 to 30 lowercase letters, digits and hyphens, starting with a letter)"
            )
        problem = region_problem("gcp", self.region)  # one of GCP's regions, as an environment's
        if problem:
            raise InvalidInputError(f"--region: {problem}")
        if self.member is not None and not _MEMBER.fullmatch(self.member):
            raise InvalidInputError(
                f"--member: {self.member!r} is not an IAM principal "
                "(serviceAccount:EMAIL, user:EMAIL, group:EMAIL, domain:DOMAIN or principal://...)"
            )

    def service_account(self, purpose: str) -> str:
        return f"{SERVICE_ACCOUNTS[purpose]}@{self.project}.iam.gserviceaccount.com"

    @property
    def bucket(self) -> str:
        """``terrane-state-<project>``: at most 44 characters, and project ids are unique, so it is free."""
        return f"terrane-state-{self.project}"

    @property
    def key(self) -> str:
        return f"projects/{self.project}/locations/{self.region}/keyRings/{KEY_RING}/cryptoKeys/{STATE_KEY}"

    @property
    def backend_url(self) -> str:
        return f"gs://{self.bucket}"

    @property
    def secrets_provider(self) -> str:
        return f"gcpkms://{self.key}"

    def link_command(self) -> str:
        return (f"terrane accounts link gcp NAME --project {self.project} "
                f"--impersonate {self.service_account('provisioner')} --region {self.region}")


def grants_condition(roles: tuple[str, ...] = PROJECT_GRANTED_ROLES) -> dict[str, str]:
    """The IAM condition on the provisioner's Project IAM Admin, as ``--condition-from-file`` reads it."""
    listed = ", ".join(f"'{role}'" for role in roles)
    return {
        "title": "terrane-component-grants-only",
        "description": "Grant and revoke only the project roles terrane's components grant (the GKE nodes' roles)",
        "expression": f"api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([{listed}])",
    }


def script(bootstrap: Bootstrap) -> str:
    """The bash script for ``bootstrap``."""
    project = bootstrap.project
    lines = [
        "#!/usr/bin/env bash",
        f"# terrane bootstrap of GCP project {project}, state store in {bootstrap.region}",
        "# (terrane accounts bootstrap gcp). Run it once as an owner of the project; it can run again.",
        "set -euo pipefail",
        "",
        "# The APIs terrane's components and this script use.",
        command("services", "enable", *APIS, *((REGISTRY_API,) if bootstrap.repositories else ()),
                 f"--project={project}"),
        "",
        "# terrane-provisioner runs up, destroy and refresh; terrane-drift reads for drift checks.",
        *_service_accounts(bootstrap),
        "",
        *_provisioner(bootstrap),
        "",
        "# Drift checks read every resource and its IAM policy, never a secret's payload.",
        *(project_binding(project, f"serviceAccount:{bootstrap.service_account('drift')}", role)
          for role in DRIFT_ROLES),
        "",
        *_state_store(bootstrap),
    ]
    if bootstrap.member is not None:
        lines += ["", *_member(bootstrap, bootstrap.member)]
    if bootstrap.repositories:
        lines += ["", *_repository_iam(bootstrap), "", *_registry_reader(bootstrap)]
    lines += ["", *_finish(bootstrap)]
    return "\n".join(lines) + "\n"


# The key's first rotation, KEY_ROTATION_DAYS from now, with GNU date, else BSD date (macOS).
_NEXT_ROTATION = (
    f"next_rotation=\"$(date -u -d '+{KEY_ROTATION_DAYS} days' '+%Y-%m-%dT%H:%M:%SZ' 2>/dev/null || "
    f"date -u -v+{KEY_ROTATION_DAYS}d '+%Y-%m-%dT%H:%M:%SZ')\""
)


def _service_accounts(bootstrap: Bootstrap) -> list[str]:
    purposes = {"provisioner": "terrane provisioner", "drift": "terrane drift checks (read-only)"}
    if bootstrap.repositories:
        purposes["registry"] = "terrane registry reader (pull only)"
    return [
        ensure(
            ["iam", "service-accounts", "describe", bootstrap.service_account(purpose), f"--project={bootstrap.project}"],
            ["iam", "service-accounts", "create", SERVICE_ACCOUNTS[purpose], f"--project={bootstrap.project}",
             f"--display-name={display}"],
        )
        for purpose, display in purposes.items()
    ]


def _provisioner(bootstrap: Bootstrap) -> list[str]:
    member = f"serviceAccount:{bootstrap.service_account('provisioner')}"
    lines = ["# The provisioner's roles, each the narrowest predefined role that covers the components:"]
    for grant in PROVISIONER_ROLES:
        lines += [f"# {grant.role}: {grant.why}.", project_binding(bootstrap.project, member, grant.role)]
    condition = json.dumps(grants_condition(), indent=2)
    lines += [
        f"# {PROJECT_IAM_ADMIN}, but it may grant and revoke only the roles the components grant on the",
        "# project (https://cloud.google.com/iam/docs/setting-limits-on-granting-roles).",
        'condition="$(mktemp)"',
        "trap 'rm -f \"$condition\"' EXIT",
        "cat >\"$condition\" <<'EOF'",
        condition,
        "EOF",
        quiet(command("projects", "add-iam-policy-binding", bootstrap.project, f"--member={member}",
                        f"--role={PROJECT_IAM_ADMIN}") + ' --condition-from-file="$condition"'),
    ]
    return lines


def _state_store(bootstrap: Bootstrap) -> list[str]:
    project, region = f"--project={bootstrap.project}", f"--location={bootstrap.region}"
    key = [STATE_KEY, f"--keyring={KEY_RING}", region, project]
    bucket = f"gs://{bootstrap.bucket}"
    settings = ["--uniform-bucket-level-access", "--public-access-prevention",
                f"--default-encryption-key={bootstrap.key}"]
    provisioner = f"serviceAccount:{bootstrap.service_account('provisioner')}"
    return [
        f"# terrane's state store, in {bootstrap.region}: a rotating key for Pulumi's secrets, and a bucket",
        "# encrypted with it for Pulumi's state.",
        ensure(["kms", "keyrings", "describe", KEY_RING, region, project],
                ["kms", "keyrings", "create", KEY_RING, region, project]),
        _NEXT_ROTATION,
        ensure(["kms", "keys", "describe", *key],
                ["kms", "keys", "create", *key, "--purpose=encryption", f"--rotation-period={KEY_ROTATION_DAYS}d"])
        + ' --next-rotation-time="$next_rotation"',
        "# The Cloud Storage service agent encrypts the bucket's objects with the key.",
        command("storage", "service-agent", project, f"--authorize-cmek={bootstrap.key}"),
        ensure(["storage", "buckets", "describe", bucket, project],
                ["storage", "buckets", "create", bucket, project, region, *settings]),
        command("storage", "buckets", "update", bucket, project, "--versioning", *settings),
        "# Pulumi reads and writes the state as whoever runs terrane: here, the provisioner.",
        *_state_access(bootstrap, provisioner),
    ]


def _state_access(bootstrap: Bootstrap, member: str) -> list[str]:
    return [
        quiet(command("storage", "buckets", "add-iam-policy-binding", f"gs://{bootstrap.bucket}",
                        f"--project={bootstrap.project}", f"--member={member}", f"--role={STATE_BUCKET_ROLE}",
                        "--condition=None")),
        quiet(command("kms", "keys", "add-iam-policy-binding", STATE_KEY, f"--keyring={KEY_RING}",
                        f"--location={bootstrap.region}", f"--project={bootstrap.project}", f"--member={member}",
                        f"--role={STATE_KEY_ROLE}", "--condition=None")),
    ]


def _member(bootstrap: Bootstrap, member: str) -> list[str]:
    return [
        f"# {member} runs terrane: it reaches the state store, and may act as the provisioner and the drift account.",
        *_state_access(bootstrap, member),
        *(quiet(command("iam", "service-accounts", "add-iam-policy-binding", bootstrap.service_account(purpose),
                          f"--project={bootstrap.project}", f"--member={member}", f"--role={IMPERSONATION_ROLE}",
                          "--condition=None"))
          for purpose in ("provisioner", "drift")),
    ]


def _repository_binding(repository: Repository, member: str, role: str) -> str:
    # No --condition=None: repositories accept no conditional bindings, so gcloud never asks for one.
    return quiet(command("artifacts", "repositories", "add-iam-policy-binding", repository.name,
                           f"--location={repository.location}", f"--project={repository.project}",
                           f"--member={member}", f"--role={role}"))


def _repository_iam(bootstrap: Bootstrap) -> list[str]:
    member = f"serviceAccount:{bootstrap.service_account('provisioner')}"
    lines = [
        "# The provisioner grants the GKE nodes' reader on these repositories, so it may get and set their IAM",
        "# policies: a custom role in each repository's project (a project's custom roles are granted only on it",
        "# and its resources), bound on each repository. Not on the project, where it would reach every repository",
        "# there; and unconditioned, because repositories accept no IAM conditions.",
    ]
    for project in dict.fromkeys(repository.project for repository in bootstrap.repositories):
        lines.append(ensure(
            ["iam", "roles", "describe", REPOSITORY_IAM_ROLE_ID, f"--project={project}"],
            ["iam", "roles", "create", REPOSITORY_IAM_ROLE_ID, f"--project={project}",
             f"--title={REPOSITORY_IAM_ROLE_TITLE}",
             "--description=Get an Artifact Registry repository and set its IAM policy, for the terrane provisioner",
             f"--permissions={','.join(REPOSITORY_IAM_PERMISSIONS)}", "--stage=GA"],
        ))
    lines += [_repository_binding(repository, member, repository.iam_role) for repository in bootstrap.repositories]
    return lines


def _registry_reader(bootstrap: Bootstrap) -> list[str]:
    member = f"serviceAccount:{bootstrap.service_account('registry')}"
    return [
        "# The registry reader pulls from these repositories and nothing else.",
        *(_repository_binding(repository, member, REGISTRY_READER_ROLE) for repository in bootstrap.repositories),
    ]


def _finish(bootstrap: Bootstrap) -> list[str]:
    said = [
        f"The state store is ready in {bootstrap.region}. Point terrane at it:",
        f"  export {BACKEND_ENV}={bootstrap.backend_url}",
        f"  export {SECRETS_PROVIDER_ENV}={bootstrap.secrets_provider}",
        "and link the project, impersonating the provisioner:",
        f"  {bootstrap.link_command()}",
        *(["and each repository, impersonating the registry reader:"] if bootstrap.repositories else []),
        *(f"  terrane accounts link artifact-registry NAME --project {repository.project} "
          f"--location {repository.location} --repository {repository.name} "
          f"--impersonate {bootstrap.service_account('registry')}"
          for repository in bootstrap.repositories),
    ]
    return ["echo", *(f"echo {shlex.quote(line)}" for line in said)]
