"""Verifying an Artifact Registry repository: its identity can pull, and cannot push.

The identity signs in as a GCP project's does (``verify``).
``testIamPermissions`` on the repository must grant ``downloadArtifacts`` and
none of ``GAR_PUSH_PERMISSIONS``; one page of its Docker images is listed.
"""

from __future__ import annotations

from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds import http
from terrane.engine.clouds.gcp.verify import email_of, identity_of, sdk_installed, signed_in
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import Check, Findings, images, unconfirmed
from terrane.stacks.spec.registries import ArtifactRegistry

__all__ = ["GAR_PUSH_PERMISSIONS", "verify_registry"]

GAR_PULL_PERMISSION = "artifactregistry.repositories.downloadArtifacts"
GAR_PUSH_PERMISSIONS = (
    "artifactregistry.repositories.uploadArtifacts",
    "artifactregistry.repositories.deleteArtifacts",
    "artifactregistry.tags.create",
    "artifactregistry.tags.update",
    "artifactregistry.tags.delete",
    "artifactregistry.versions.delete",
    "artifactregistry.repositories.update",
    "artifactregistry.repositories.delete",
    "artifactregistry.repositories.setIamPolicy",
)

# Where the REST calls go (tests point them at a local server).
ARTIFACT_REGISTRY_URL = "https://artifactregistry.googleapis.com/v1"


def verify_registry(check: Check, registry: ArtifactRegistry) -> Verification:
    key, identity = identity_of(check, registry)
    if not sdk_installed():
        return unconfirmed(check, registry, identity, "Google Cloud", extra="gcp")
    credentials = signed_in(check, registry, key)
    identity = email_of(credentials) or identity
    token = Secret(str(credentials.token))
    found = Findings([])
    found.add("sign-in", True, f"Google issued a token{f' to {identity}' if identity else ''}")
    repository = (f"{ARTIFACT_REGISTRY_URL}/projects/{registry.project}/locations/{registry.location}"
                  f"/repositories/{registry.repository}")
    asked = [GAR_PULL_PERMISSION, *GAR_PUSH_PERMISSIONS]
    can_pull = False
    can_push: bool | None = None
    try:
        answer = http.request(check, "POST", f"{repository}:testIamPermissions", token=token, body={"permissions": asked})
    except http.Refused as refused:
        found.add("testIamPermissions", False, f"cannot test its permissions on {registry.repository}: {refused}")
    else:
        granted = {name for name in answer.get("permissions") or [] if isinstance(name, str)}
        can_pull = found.add("testIamPermissions", GAR_PULL_PERMISSION in granted,
                             f"{GAR_PULL_PERMISSION} is {'granted' if GAR_PULL_PERMISSION in granted else 'not granted'}")
        pushes = [name for name in GAR_PUSH_PERMISSIONS if name in granted]
        can_push = bool(pushes)
        found.add("push", not pushes, f"CAN push: {', '.join(pushes)} granted" if pushes
                  else f"cannot push: none of {', '.join(GAR_PUSH_PERMISSIONS)} is granted")
    try:
        listed = http.request(check, "GET", f"{repository}/dockerImages?pageSize=1", token=token)
    except http.Refused as refused:
        can_pull = found.add("dockerImages", False, f"cannot list images of {registry.repository}: {refused}") and can_pull
    else:
        count = len(listed.get("dockerImages") or [])
        found.add("dockerImages", True, images(count, "nextPageToken" in listed))
    return found.result(check, registry, identity, can_pull, can_push)
