"""The scheduling examples in deploy/: they parse, and they do what docs/drift.md says they do."""

from __future__ import annotations

import re
import shlex
import shutil
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from terrane.engine.scaffold import init

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
CRONJOB = DEPLOY / "kubernetes" / "cronjob.yaml"
INDEXED = DEPLOY / "kubernetes" / "indexed-job.yaml"
WORKFLOW = DEPLOY / "github" / "drift.yml"
CRON = DEPLOY / "cron" / "terrane-drift.cron"
DOCKERFILE = DEPLOY / "Dockerfile"
REPORTS = ("drift.json", "drift.md", "drift.xml")


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def only(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [doc] = [doc for doc in docs if doc["kind"] == kind]
    return doc


def is_hourly(schedule: str) -> bool:
    minute, hour, day, month, weekday = schedule.split()
    return minute.isdigit() and 0 <= int(minute) < 60 and (hour, day, month, weekday) == ("*",) * 4


def fake_terrane(directory: Path, exit_code: int) -> Path:
    """A ``terrane`` that records its arguments, writes the reports it is asked for and exits ``exit_code``."""
    script = directory / "terrane"
    script.write_text(f"""#!/bin/sh
printf '%s\\n' "$@" -- >> "{directory}/argv"
while [ $# -gt 0 ]; do
  case "$1" in
    --markdown|--junit) echo report > "$2"; shift ;;
  esac
  shift
done
echo '{{"schema_version": 1}}'
exit {exit_code}
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.parametrize("path", sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")]), ids=lambda p: p.name)
def test_every_yaml_file_parses(path: Path) -> None:
    assert load_all(path)


# --- Kubernetes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CRONJOB, INDEXED], ids=lambda p: p.name)
def test_manifests_have_what_the_api_requires(path: Path) -> None:
    docs = load_all(path)
    assert {doc["kind"] for doc in docs} == {"ServiceAccount", "PersistentVolumeClaim", "CronJob"}
    for doc in docs:
        assert doc["apiVersion"] == ("batch/v1" if doc["kind"] == "CronJob" else "v1")
        assert doc["metadata"]["name"]
    assert "kind: Secret" not in path.read_text(), "secret values never go into a manifest"
    cronjob = only(docs, "CronJob")
    assert is_hourly(cronjob["spec"]["schedule"])
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] > 0
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == only(docs, "ServiceAccount")["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    for container in [*pod["initContainers"], *pod["containers"]]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {mount["name"] for mount in container["volumeMounts"]} <= set(volumes)

    [drift] = pod["containers"]
    env = {var["name"]: var for var in drift["env"]}
    secrets = {name: var["valueFrom"]["secretKeyRef"] for name, var in env.items() if "valueFrom" in var
               and "secretKeyRef" in var["valueFrom"]}
    assert {"TERRANE_AWS_EXTERNAL_ID", "PULUMI_CONFIG_PASSPHRASE", "TERRANE_DRIFT_WEBHOOK"} <= set(secrets)
    assert re.match(r"(s3|gs|azblob)://", env["TERRANE_BACKEND_URL"]["value"])
    mounts = {mount["mountPath"]: volumes[mount["name"]] for mount in drift["volumeMounts"]}
    assert "emptyDir" in mounts["/tmp"]
    assert env["HOME"]["value"] in mounts and "emptyDir" in mounts[env["HOME"]["value"]]
    # What outlives the pod is on a claim: the history --notify compares with (the CronJob's, on a volume), or
    # the page of every shard (the Indexed Job's, whose history is in the backend).
    kept = "/work/page" if path == INDEXED else f"{env['TERRANE_PROJECT']['value']}/.terrane/drift"
    claims = {doc["metadata"]["name"] for doc in docs if doc["kind"] == "PersistentVolumeClaim"}
    assert mounts[kept]["persistentVolumeClaim"]["claimName"] in claims
    # Every $(VAR) Kubernetes expands is defined in the container's env.
    expanded = " ".join([*drift.get("args", []), *(m.get("subPathExpr", "") for m in drift["volumeMounts"])])
    assert set(re.findall(r"\$\((\w+)\)", expanded)) <= set(env)


def test_cronjob_checks_every_environment_once_an_hour_without_retries() -> None:
    cronjob = only(load_all(CRONJOB), "CronJob")
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
    [drift] = job["template"]["spec"]["containers"]
    assert drift["args"][:2] == ["drift", "--all"]
    assert "--json" in drift["args"]
    assert "--notify=$(TERRANE_DRIFT_WEBHOOK)" in drift["args"]


@pytest.mark.parametrize("path", [CRONJOB, INDEXED], ids=lambda path: path.name)
def test_pods_give_terrane_time_to_cancel_on_sigterm(path: Path) -> None:
    pod = only(load_all(path), "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= 60


def test_indexed_job_shards_match_its_completions() -> None:
    cronjob = only(load_all(INDEXED), "CronJob")
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    [drift] = job["template"]["spec"]["containers"]
    shell, flag, script = drift["command"]
    assert (shell, flag) == ("/bin/sh", "-c")
    assert script.startswith("trap ") and 'exit "$code"' in script, "the check's exit code is the pod's"
    [shards] = re.findall(r'--shard "\$\{JOB_COMPLETION_INDEX\}/(\d+)"', script)
    assert job["completions"] == job["parallelism"] == int(shards)
    # A shard that finds drift must not stop the others, as a Job-wide backoffLimit would.
    assert job["backoffLimitPerIndex"] == 0
    assert "backoffLimit" not in job
    # One page for every shard, from the history they share in the backend.
    assert "terrane report --html /work/page/report.html" in script


def test_indexed_job_command_runs_the_shard_of_its_index(tmp_path: Path) -> None:
    [drift] = only(load_all(INDEXED), "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    fake_terrane(tmp_path, exit_code=2)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "JOB_COMPLETION_INDEX": "3", "TERRANE_DRIFT_WEBHOOK": "https://hook"}
    completed = subprocess.run(drift["command"], env=env, capture_output=True, text=True, check=False)
    assert completed.returncode == 2  # the check's, not the page's
    check, page = [call.split("\n") for call in (tmp_path / "argv").read_text().split("--\n") if call]
    assert check[check.index("--shard") + 1] == "3/4"
    assert check[check.index("--notify") + 1] == "https://hook"
    assert page[:2] == ["report", "--html"]


def test_indexed_job_passes_sigterm_on_to_the_check(tmp_path: Path) -> None:
    """Evicted, the pod's shell gets SIGTERM: terrane gets it too (to cancel cleanly), and the shell waits for it."""
    [drift] = only(load_all(INDEXED), "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    (tmp_path / "terrane").write_text(f"""#!/bin/sh
[ "$1" = report ] && exit 0
trap 'echo cancelled > "{tmp_path}/cancelled"; exit 1' TERM
echo started > "{tmp_path}/started"
while :; do sleep 0.1; done
""")
    (tmp_path / "terrane").chmod(0o755)
    shell = subprocess.Popen(drift["command"], env={"PATH": f"{tmp_path}:/usr/bin:/bin", "JOB_COMPLETION_INDEX": "0"})
    for _ in range(100):
        if (tmp_path / "started").exists():
            break
        time.sleep(0.05)
    # Again until the shell ends: a SIGTERM that comes before the shell knows terrane's pid has no one to pass to.
    for _ in range(100):
        shell.terminate()
        try:
            code = shell.wait(0.1)
            break
        except subprocess.TimeoutExpired:
            continue
    assert code == 1  # terrane's own exit code after cancelling
    assert (tmp_path / "cancelled").exists()


# --- GitHub Actions -------------------------------------------------------------------------------


def workflow() -> dict[str, Any]:
    data = load_all(WORKFLOW)[0]
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps() -> list[dict[str, Any]]:
    return workflow()["jobs"]["drift"]["steps"]


def step_using(action: str) -> dict[str, Any]:
    [step] = [step for step in steps() if step.get("uses", "").startswith(f"{action}@")]
    return step


def drift_step() -> dict[str, Any]:
    [step] = [step for step in steps() if step.get("id") == "drift"]
    return step


def test_workflow_runs_hourly_and_on_demand_with_oidc() -> None:
    data = workflow()
    assert [is_hourly(entry["cron"]) for entry in data["on"]["schedule"]] == [True]
    assert "workflow_dispatch" in data["on"]
    assert data["permissions"]["id-token"] == "write"
    assert step_using("actions/setup-python")["with"]["python-version"] == "3.11"
    assert "role-to-assume" in step_using("aws-actions/configure-aws-credentials")["with"]
    install = next(step for step in steps() if 'pip install "$TERRANE_PACKAGE"' in step.get("run", ""))
    assert "terrane install-cli" in install["run"]
    assert install["env"]["TERRANE_PACKAGE"].startswith("terrane==")  # the released package, pinned
    run = drift_step()["run"]
    assert "--all" in run and "> drift.json" in run and "--markdown drift.md" in run and "--junit drift.xml" in run
    # Secrets reach only the step that needs them, never the third-party actions.
    assert "secrets." not in str(data["jobs"]["drift"].get("env", {}))
    assert all("secrets." not in str(step.get("with", {})) for step in steps())


def test_workflow_keeps_the_reports_when_drift_is_found(tmp_path: Path) -> None:
    names = [step.get("name") or step["uses"] for step in steps()]
    check = names.index(drift_step()["name"])
    upload = step_using("actions/upload-artifact")
    assert set(REPORTS) <= set(upload["with"]["path"].split())
    for step in steps()[check + 1:]:
        assert step.get("if") == "always()", f"{step.get('name')} must run when the check failed"
    summary = next(step for step in steps()[check + 1:] if "GITHUB_STEP_SUMMARY" in step.get("run", ""))
    assert "drift.md" in summary["run"]

    # The check step itself succeeds on exit 2, records the code, and the last step fails on it.
    fake_terrane(tmp_path, exit_code=2)
    output = tmp_path / "github_output"
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "GITHUB_OUTPUT": str(output), "TERRANE_DRIFT_WEBHOOK": ""}
    bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]  # GitHub's `shell: bash`
    completed = subprocess.run([*bash, drift_step()["run"]], cwd=tmp_path, env=env, capture_output=True, text=True,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    assert output.read_text().strip() == "exit-code=2"
    assert all((tmp_path / report).exists() for report in REPORTS)
    assert "--notify" not in (tmp_path / "argv").read_text(), "no webhook secret, no --notify"
    final = steps()[-1]
    assert "steps.drift.outputs.exit-code" in final["env"]["CODE"]
    for code, fails in (("0", False), ("2", True), ("1", True), ("", True)):
        ended = subprocess.run([*bash, final["run"]], env={"PATH": "/usr/bin:/bin", "CODE": code},
                               capture_output=True, text=True, check=False)
        assert (ended.returncode != 0) is fails, (code, ended.stdout)


# --- cron -----------------------------------------------------------------------------------------


def cron_entry() -> tuple[str, str]:
    """(schedule, command) of the drift line of the cron.d file (with its user field)."""
    line = next(line for line in CRON.read_text().splitlines() if "terrane drift" in line and not line.startswith("#"))
    fields = line.split(maxsplit=6)
    return " ".join(fields[:5]), fields[6]


def test_cron_line_runs_hourly_under_flock_with_dated_reports() -> None:
    schedule, command = cron_entry()
    assert is_hourly(schedule)
    assert "flock -n" in command
    assert '--notify "$TERRANE_DRIFT_WEBHOOK"' in command
    assert re.search(r"--json --markdown \S*\$ts\.md", command) and '>".terrane/drift/reports/$ts.json"' in command
    assert "%" not in command.replace("\\%", ""), "an unescaped % ends a crontab command"
    assert subprocess.run(["sh", "-n", "-c", command.replace("\\%", "%")], check=False).returncode == 0


@pytest.mark.skipif(shutil.which("flock") is None, reason="needs flock (util-linux)")
@pytest.mark.parametrize(("code", "mails"), [(0, False), (2, False), (1, True), (3, True)])
def test_cron_line_mails_only_when_a_check_could_not_run(tmp_path: Path, code: int, mails: bool) -> None:
    _, command = cron_entry()
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "drift.env").write_text("export TERRANE_DRIFT_WEBHOOK=https://hook\n")
    fake_terrane(tmp_path, exit_code=code)
    command = (command.replace("\\%", "%").replace("/srv/terrane/project", str(project))
               .replace("/etc/terrane/drift.env", str(tmp_path / "drift.env")))
    completed = subprocess.run(["sh", "-c", command], env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
                               capture_output=True, text=True, check=False)
    assert bool(completed.stdout) is mails, completed.stdout
    reports = sorted(p.suffix for p in (project / ".terrane" / "drift" / "reports").iterdir())
    assert reports == [".json", ".log", ".md"]
    argv = (tmp_path / "argv").read_text().split("\n")
    assert argv[:2] == ["drift", "--all"] and argv[argv.index("--notify") + 1] == "https://hook"


# --- Dockerfile -----------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1]) for line in text.splitlines()
            if line.strip()]


def test_dockerfile_builds_a_non_root_image_from_the_released_package_and_a_project(tmp_path: Path) -> None:
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert ("ARG", "TERRANE_PACKAGE") in steps  # required: no default that an index could answer with anything
    runs = " ".join(args for instruction, args in steps if instruction == "RUN")
    assert 'pip install "$TERRANE_PACKAGE"' in runs and "terrane install-cli --root /opt/pulumi" in runs
    assert "TERRANE_PULUMI_ROOT=/opt/pulumi" in " ".join(args for instruction, args in steps if instruction == "ENV")
    [user] = [args for instruction, args in steps if instruction == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    assert dict(steps)["ENTRYPOINT"] == '["terrane"]'
    assert dict(steps)["CMD"] == '["drift", "--all", "--json"]'
    # It copies a project, not terrane's source: every file it copies is in a project `terrane init` made
    # and in this repository's sample project, and nothing comes from .terrane/ (state, passphrase).
    init(tmp_path / "project")
    for instruction, args in steps:
        if instruction == "COPY":
            *sources, _ = [word for word in shlex.split(args) if not word.startswith("--")]
            for source in sources:
                for project in (tmp_path / "project", REPO):
                    assert list(project.glob(source.rstrip("/"))), f"COPY {source}: not in {project}"
                assert not source.startswith(".terrane")
                assert source.split("/")[0] not in ("engine", "stacks", "components", "terrane", "pyproject.toml")