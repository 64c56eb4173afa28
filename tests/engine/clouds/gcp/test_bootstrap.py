"""The GCP project bootstrap: a gcloud script, run here against a gcloud that records what it is asked."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from terrane.engine.clouds.gcp.bootstrap import (
    DRIFT_ROLES,
    PROJECT_GRANTED_ROLES,
    PROJECT_IAM_ADMIN,
    PROVISIONER_ROLES,
    REPOSITORY_IAM_PERMISSIONS,
    Bootstrap,
    Repository,
    grants_condition,
    script,
)
from terrane.engine.errors import InvalidInputError
from tests.helpers.project import REPO

PROJECT = "sandbox-project-123"
REGION = "europe-west1"
MEMBER = "serviceAccount:ci@ci-project-9.iam.gserviceaccount.com"
PROVISIONER = f"serviceAccount:terrane-provisioner@{PROJECT}.iam.gserviceaccount.com"
DRIFT = f"serviceAccount:terrane-drift@{PROJECT}.iam.gserviceaccount.com"
REGISTRY_READER = f"serviceAccount:terrane-registry-reader@{PROJECT}.iam.gserviceaccount.com"
KEY = f"projects/{PROJECT}/locations/{REGION}/keyRings/terrane/cryptoKeys/terrane-state"
BUCKET = f"gs://terrane-state-{PROJECT}"
# Two repositories in the project, one in another project.
REPOSITORIES = (Repository(PROJECT, REGION, "images"), Repository(PROJECT, "us", "tools"),
                Repository("shared-registry-1", "europe", "base"))
REPOSITORY_IAM_ROLE = "terraneRepositoryIamAdmin"

# A gcloud that appends each call (its argv, and the condition file it was given) to $FAKE_GCLOUD_LOG
# as a JSON line; "describe" finds nothing unless $FAKE_GCLOUD_EXISTING is set.
FAKE_GCLOUD = f"""#!{sys.executable}
import json, os, sys
record = {{"argv": sys.argv[1:]}}
for arg in sys.argv[1:]:
    if arg.startswith("--condition-from-file="):
        with open(arg.split("=", 1)[1]) as file:
            record["condition"] = json.load(file)
with open(os.environ["FAKE_GCLOUD_LOG"], "a") as log:
    log.write(json.dumps(record) + "\\n")
if "describe" in sys.argv and not os.environ.get("FAKE_GCLOUD_EXISTING"):
    sys.exit(1)
"""


@dataclass
class Run:
    calls: list[dict[str, Any]]
    stdout: str

    @property
    def commands(self) -> list[list[str]]:
        return [call["argv"] for call in self.calls]

    def matching(self, *prefix: str) -> list[list[str]]:
        return [argv for argv in self.commands if argv[: len(prefix)] == list(prefix)]

    def bindings(self, *prefix: str) -> dict[tuple[str, str], list[str]]:
        """(member, role) of each add-iam-policy-binding under ``prefix``, with its whole argv."""
        found = {}
        for argv in self.matching(*prefix, "add-iam-policy-binding"):
            flags = dict(arg.split("=", 1) for arg in argv if arg.startswith("--") and "=" in arg)
            found[(flags["--member"], flags["--role"])] = argv
        return found


def run(tmp_path: Path, bootstrap: Bootstrap, *, existing: bool = False) -> Run:
    path = tmp_path / "terrane-bootstrap.sh"
    path.write_text(script(bootstrap))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gcloud").write_text(FAKE_GCLOUD)
    (bin_dir / "gcloud").chmod(0o755)
    log = tmp_path / f"gcloud-{existing}.log"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_GCLOUD_LOG": str(log)}
    env.pop("FAKE_GCLOUD_EXISTING", None)
    if existing:
        env["FAKE_GCLOUD_EXISTING"] = "1"
    result = subprocess.run(["bash", str(path)], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return Run([json.loads(line) for line in log.read_text().splitlines()], result.stdout)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run(tmp_path_factory.mktemp("fresh"), Bootstrap(PROJECT, REGION, REPOSITORIES, MEMBER))


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run(tmp_path_factory.mktemp("plain"), Bootstrap(PROJECT, REGION))


# --- the script -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bootstrap", [Bootstrap(PROJECT, REGION), Bootstrap(PROJECT, REGION, REPOSITORIES, MEMBER)])
def test_the_script_parses_with_bash_n(bootstrap: Bootstrap, tmp_path: Path) -> None:
    path = tmp_path / "terrane-bootstrap.sh"
    path.write_text(script(bootstrap))
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "\nset -euo pipefail\n" in text


def test_it_creates_the_service_accounts_only_when_missing(fresh: Run, tmp_path: Path) -> None:
    created = [argv[3] for argv in fresh.matching("iam", "service-accounts", "create")]
    assert created == ["terrane-provisioner", "terrane-drift", "terrane-registry-reader"]
    for argv in fresh.matching("iam", "service-accounts", "create"):
        assert f"--project={PROJECT}" in argv
        # Quoted in the script, one argument here.
        assert any(arg.startswith("--display-name=terrane ") and " " in arg for arg in argv)

    again = run(tmp_path, Bootstrap(PROJECT, REGION, REPOSITORIES, MEMBER), existing=True)
    assert [argv for argv in again.commands if "create" in argv] == []
    # Everything else is applied again, unchanged (but for the condition's temporary file).
    assert [_same(call) for call in again.calls if "describe" not in call["argv"]] == [
        _same(call) for call in fresh.calls if "describe" not in call["argv"] and "create" not in call["argv"]
    ]


def _same(call: dict[str, Any]) -> list[Any]:
    return [call.get("condition") if arg.startswith("--condition-from-file=") else arg for arg in call["argv"]]


def test_the_state_store_is_in_the_region_encrypted_with_a_rotating_key(fresh: Run) -> None:
    (ring,) = fresh.matching("kms", "keyrings", "create")
    assert ring == ["kms", "keyrings", "create", "terrane", f"--location={REGION}", f"--project={PROJECT}"]
    (key,) = fresh.matching("kms", "keys", "create")
    assert key[:7] == ["kms", "keys", "create", "terrane-state", "--keyring=terrane", f"--location={REGION}",
                       f"--project={PROJECT}"]
    assert "--purpose=encryption" in key and "--rotation-period=90d" in key
    (next_rotation,) = [arg.split("=", 1)[1] for arg in key if arg.startswith("--next-rotation-time=")]
    when = datetime.datetime.strptime(next_rotation, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    assert abs(when - datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=90)) < datetime.timedelta(hours=1)

    agent = fresh.matching("storage", "service-agent")
    assert agent == [["storage", "service-agent", f"--project={PROJECT}", f"--authorize-cmek={KEY}"]]
    (create,) = fresh.matching("storage", "buckets", "create")
    assert create == ["storage", "buckets", "create", BUCKET, f"--project={PROJECT}", f"--location={REGION}",
                      "--uniform-bucket-level-access", "--public-access-prevention", f"--default-encryption-key={KEY}"]
    (update,) = fresh.matching("storage", "buckets", "update")
    assert {"--versioning", "--uniform-bucket-level-access", "--public-access-prevention",
            f"--default-encryption-key={KEY}"} <= set(update)
    # The service agent may use the key before the bucket names it.
    order = fresh.commands
    assert order.index(key) < order.index(agent[0]) < order.index(create) < order.index(update)


def test_the_region_is_the_only_location_besides_the_repositories(fresh: Run) -> None:
    repository_locations = {f"--location={repository.location}" for repository in REPOSITORIES}
    for argv in fresh.commands:
        locations = {arg for arg in argv if arg.startswith("--location=")}
        if argv[:2] == ["artifacts", "repositories"]:
            assert locations <= repository_locations
        else:
            assert locations <= {f"--location={REGION}"}, argv
        assert all(f"/locations/{REGION}/" in arg for arg in argv if "/locations/" in arg)


def test_the_provisioner_gets_the_listed_roles_and_a_conditioned_project_iam_admin(fresh: Run) -> None:
    project = fresh.bindings("projects")
    provisioner = {role: argv for (member, role), argv in project.items() if member == PROVISIONER}
    assert set(provisioner) == {grant.role for grant in PROVISIONER_ROLES} | {PROJECT_IAM_ADMIN}
    assert not set(provisioner) & {"roles/owner", "roles/editor", "roles/iam.securityAdmin",
                                   "roles/iam.serviceAccountAdmin", "roles/iam.serviceAccountTokenCreator"}
    for role, argv in provisioner.items():
        if role == PROJECT_IAM_ADMIN:
            assert any(arg.startswith("--condition-from-file=") for arg in argv)
            assert "--condition=None" not in argv
        else:
            # gcloud refuses an unconditional binding non-interactively once a policy has a condition.
            assert "--condition=None" in argv, role
    (admin,) = [call for call in fresh.calls if f"--role={PROJECT_IAM_ADMIN}" in call["argv"]]
    assert admin["condition"] == grants_condition()
    assert admin["condition"]["expression"] == (
        "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(['roles/logging.logWriter', "
        "'roles/monitoring.metricWriter', 'roles/monitoring.viewer', 'roles/stackdriver.resourceMetadata.writer', "
        "'roles/artifactregistry.reader'])"
    )
    assert len(admin["condition"]["title"]) <= 100


def test_the_condition_lists_exactly_the_roles_the_components_grant_on_the_project(fresh: Run) -> None:
    from terrane.components.gcp import cluster
    from terrane.engine.offline.render import plan
    from terrane.engine.project import open_project

    (admin,) = [call for call in fresh.calls if f"--role={PROJECT_IAM_ADMIN}" in call["argv"]]
    listed = re.fullmatch(r"api\.getAttribute\('iam\.googleapis\.com/modifiedGrantsByRole', \[\]\)\.hasOnly\(\[(.*)\]\)",
                          admin["condition"]["expression"])
    assert listed
    roles = {role.strip().strip("'") for role in listed[1].split(",")}
    assert roles == set(PROJECT_GRANTED_ROLES) == set(cluster._NODE_ROLES)

    rendered = plan(open_project(REPO), "gcp-dev")
    granted = {r.inputs["role"] for r in rendered.resources if r.type == "gcp:projects/iAMMember:IAMMember"}
    assert granted and granted <= roles
    # Grants on single resources go through their service's admin role, never through the project's policy.
    elsewhere = {r.inputs["role"] for r in rendered.resources if r.type.endswith(("IAMMember", "IamMember"))
                 and r.type != "gcp:projects/iAMMember:IAMMember"}
    assert elsewhere and not elsewhere & roles - {"roles/artifactregistry.reader"}


def test_drift_reads_and_the_registry_reader_pulls_from_the_repositories_only(fresh: Run) -> None:
    project = fresh.bindings("projects")
    assert {role for member, role in project if member == DRIFT} == set(DRIFT_ROLES)
    assert [key for key in project if key[0] == REGISTRY_READER] == []
    assert not any(role.startswith("roles/artifactregistry") for _, role in project)

    pulls = [argv for argv in fresh.matching("artifacts", "repositories", "add-iam-policy-binding")
             if f"--member={REGISTRY_READER}" in argv]
    assert pulls == [
        ["artifacts", "repositories", "add-iam-policy-binding", repository.name, f"--location={repository.location}",
         f"--project={repository.project}", f"--member={REGISTRY_READER}", "--role=roles/artifactregistry.reader"]
        for repository in REPOSITORIES
    ]
    enabled = fresh.matching("services", "enable")[0]
    assert "artifactregistry.googleapis.com" in enabled and f"--project={PROJECT}" in enabled


def test_the_provisioner_may_set_the_iam_policy_of_each_repository_through_a_custom_role(fresh: Run) -> None:
    created = fresh.matching("iam", "roles", "create")
    # Once per project that holds a repository: a project's custom roles are granted only on its own resources.
    assert [argv[3:5] for argv in created] == [[REPOSITORY_IAM_ROLE, f"--project={PROJECT}"],
                                               [REPOSITORY_IAM_ROLE, "--project=shared-registry-1"]]
    for argv in created:
        flags = dict(arg.split("=", 1) for arg in argv if arg.startswith("--"))
        assert flags["--permissions"].split(",") == [
            "artifactregistry.repositories.get",
            "artifactregistry.repositories.getIamPolicy",
            "artifactregistry.repositories.setIamPolicy",
        ] == list(REPOSITORY_IAM_PERMISSIONS)
        assert flags["--title"] == "terrane repository IAM admin"
        assert flags["--stage"] == "GA"
        assert set(flags) == {"--project", "--title", "--description", "--permissions", "--stage"}
    assert [argv[:5] for argv in fresh.matching("iam", "roles", "describe")] == [
        ["iam", "roles", "describe", REPOSITORY_IAM_ROLE, f"--project={PROJECT}"],
        ["iam", "roles", "describe", REPOSITORY_IAM_ROLE, "--project=shared-registry-1"],
    ]

    bindings = [argv for argv in fresh.matching("artifacts", "repositories", "add-iam-policy-binding")
                if f"--member={PROVISIONER}" in argv]
    assert bindings == [
        ["artifacts", "repositories", "add-iam-policy-binding", repository.name, f"--location={repository.location}",
         f"--project={repository.project}", f"--member={PROVISIONER}",
         f"--role=projects/{repository.project}/roles/{REPOSITORY_IAM_ROLE}"]
        for repository in REPOSITORIES
    ]
    assert [repository.iam_role for repository in REPOSITORIES] == [
        f"projects/{repository.project}/roles/{REPOSITORY_IAM_ROLE}" for repository in REPOSITORIES
    ]
    # Each role exists before it is bound.
    order = fresh.commands
    for argv in bindings:
        (create,) = [c for c in created if c[4] == argv[5]]
        assert order.index(create) < order.index(argv)
    # Nothing at project level, and no other principal holds the role.
    assert not any("terraneRepositoryIamAdmin" in role for _, role in fresh.bindings("projects"))
    assert [argv for argv in order if any(REPOSITORY_IAM_ROLE in arg for arg in argv)
            and "add-iam-policy-binding" in argv and f"--member={PROVISIONER}" not in argv] == []


def test_an_existing_repository_role_is_not_created_again(tmp_path: Path) -> None:
    again = run(tmp_path, Bootstrap(PROJECT, REGION, REPOSITORIES), existing=True)
    assert len(again.matching("iam", "roles", "describe")) == 2
    assert again.matching("iam", "roles", "create") == []
    assert len([argv for argv in again.matching("artifacts", "repositories", "add-iam-policy-binding")
                if f"--member={PROVISIONER}" in argv]) == len(REPOSITORIES)


def test_the_member_reaches_the_state_and_may_impersonate_the_provisioner_and_drift(fresh: Run, plain: Run) -> None:
    for run_ in (fresh, plain):
        assert set(run_.bindings("storage", "buckets")) >= {(PROVISIONER, "roles/storage.objectAdmin")}
        assert set(run_.bindings("kms", "keys")) >= {(PROVISIONER, "roles/cloudkms.cryptoKeyEncrypterDecrypter")}
    assert set(fresh.bindings("storage", "buckets")) == {(PROVISIONER, "roles/storage.objectAdmin"),
                                                         (MEMBER, "roles/storage.objectAdmin")}
    assert set(fresh.bindings("kms", "keys")) == {(PROVISIONER, "roles/cloudkms.cryptoKeyEncrypterDecrypter"),
                                                  (MEMBER, "roles/cloudkms.cryptoKeyEncrypterDecrypter")}
    impersonation = fresh.matching("iam", "service-accounts", "add-iam-policy-binding")
    assert [(argv[3], argv[5], argv[6]) for argv in impersonation] == [
        (f"terrane-{name}@{PROJECT}.iam.gserviceaccount.com", f"--member={MEMBER}",
         "--role=roles/iam.serviceAccountTokenCreator")
        for name in ("provisioner", "drift")
    ]
    assert MEMBER not in json.dumps(plain.calls)
    assert plain.matching("artifacts") == []
    assert plain.matching("iam", "roles") == []
    assert REPOSITORY_IAM_ROLE not in json.dumps(plain.calls)
    assert "terrane-registry-reader" not in json.dumps(plain.calls)


def test_it_ends_with_the_exports_and_the_link_command(fresh: Run) -> None:
    lines = fresh.stdout.splitlines()
    assert f"  export TERRANE_BACKEND_URL={BUCKET}" in lines
    assert f"  export TERRANE_SECRETS_PROVIDER=gcpkms://{KEY}" in lines
    assert (f"  terrane accounts link gcp NAME --project {PROJECT} --impersonate "
            f"terrane-provisioner@{PROJECT}.iam.gserviceaccount.com --region {REGION}") in lines
    reader = f"terrane-registry-reader@{PROJECT}.iam.gserviceaccount.com"
    assert lines[-len(REPOSITORIES):] == [
        f"  terrane accounts link artifact-registry NAME --project {repository.project} "
        f"--location {repository.location} --repository {repository.name} --impersonate {reader}"
        for repository in REPOSITORIES]


def test_without_repositories_it_ends_with_the_link_command(plain: Run) -> None:
    lines = plain.stdout.splitlines()
    assert lines[-1].startswith("  terrane accounts link gcp")
    assert "artifact-registry" not in plain.stdout


# --- inputs ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"project": "Sandbox"}, "--project"),
        ({"project": "short"}, "--project"),
        ({"project": "a" * 31}, "--project"),
        ({"project": "ends-with-"}, "--project"),
        ({"project": "example.com:legacy"}, "--project"),
        ({"project": "x; rm -rf /"}, "--project"),
        ({"region": "europe-west"}, "--region"),
        ({"region": "EU"}, "--region"),
        ({"region": ""}, "--region"),
        ({"member": "ci@example.com"}, "--member"),
        ({"member": "serviceAccount:ci@x.iam.gserviceaccount.com; echo"}, "--member"),
    ],
)
def test_bad_input_is_invalid_input_naming_the_flag(kwargs: dict[str, str], flag: str) -> None:
    arguments: dict[str, Any] = {"project": PROJECT, "region": REGION} | kwargs
    with pytest.raises(InvalidInputError, match=f"^{flag}: ") as error:
        Bootstrap(**arguments)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("text", ["images", "a/b/c/d", "europe-west1/Images", "mars/images", "europe-west1/",
                                  "Bad_Project/europe-west1/images", "europe-west1/images;id"])
def test_a_bad_repository_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError, match="^--repository: ") as error:
        Repository.parse(text, PROJECT)
    assert "\n" not in str(error.value)


def test_repositories_default_to_the_project() -> None:
    assert Repository.parse("europe-west1/images", PROJECT) == Repository(PROJECT, "europe-west1", "images")
    assert Repository.parse("shared-registry-1/us/base", PROJECT) == Repository("shared-registry-1", "us", "base")


def test_the_bucket_name_fits_gcs_rules_for_any_project_id() -> None:
    longest = Bootstrap("p" + "-0" * 14 + "1", REGION)
    assert len(longest.project) == 30
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]", longest.bucket)
    assert "google" not in longest.bucket


def test_importing_the_module_loads_no_cloud_sdk() -> None:
    sdks = "{'pulumi', 'pulumi_gcp', 'google', 'boto3'}"
    code = ("import sys, terrane.engine.clouds.gcp.bootstrap; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sdks}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"
