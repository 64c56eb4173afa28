"""Faults on the real Pulumi CLI: one broken stack never hides the others, and nothing bad is silent.

A state file cut short or gone, a corrupt drift history, a read-only or full disk, a state that does not
read after an update, and the CLI's own logs. The read-only and full disks are real small filesystems
(``tests.helpers.filesystems``): a tmpfs mounted for the test, so the real CLI meets the same constraint.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import threading
from pathlib import Path

import pytest

from terrane.engine.operations import pulumi_logs
from tests.helpers import filesystems
from tests.helpers.dom import parse
from tests.helpers.project import SampleProject
from tests.helpers.testcloud import DELAY_TAG, TestCloud


def _stacks(backend: Path) -> Path:
    return backend / ".pulumi" / "stacks" / "terrane"


@pytest.fixture
def two_deployed(project: SampleProject, cloud: TestCloud, cli) -> Path:
    """aws-dev and gcp-dev deployed to the default backend; its directory."""
    result = cli("up", "aws-dev", "gcp-dev", "--yes")
    assert result.code == 0, result.stderr
    return project.root / ".terrane" / "state"


def _json(cli, *args: str) -> tuple[int, dict[str, dict]]:
    result = cli(*args, "--json")
    key = "environments"
    return result.code, {row["environment"]: row for row in json.loads(result.stdout)[key]}


def _restore(error: str) -> None:
    """Run the ``cp BACKUP STATE`` an error says restores the state."""
    command = error.split("with: ", 1)[1].split(";", 1)[0]
    source, target = shlex.split(command)[1:]
    shutil.copy(source, target)


def test_a_state_cut_short_is_an_error_row_and_the_others_are_listed(two_deployed: Path, project: SampleProject,
                                                                      cli, tmp_path: Path) -> None:
    state = _stacks(two_deployed) / "aws-dev.json"
    state.write_bytes(state.read_bytes()[:200])  # pulumi stack ls now fails whole: "unexpected end of JSON input"
    backups = two_deployed / ".pulumi" / "backups" / "terrane" / "aws-dev"

    code, rows = _json(cli, "status")
    assert code == 1
    assert rows["gcp-dev"]["error"] is None and rows["gcp-dev"]["last_update"]["resources"] > 0
    assert rows["azure-dev"]["error"] is None and rows["azure-dev"]["last_update"] is None
    error = rows["aws-dev"]["error"]
    assert error.startswith(f"state unreadable: {state} (not JSON") and f"Pulumi keeps backups in {backups}/" in error
    table = cli("status")
    assert table.code == 1 and f"error: aws-dev: {error}" in table.stderr
    assert "error (below)" in table.stdout

    page = tmp_path / "report.html"
    report = cli("report", "--html", page)
    assert report.code == 1 and f"error: aws-dev: {error}" in report.stderr
    document = parse(page.read_text())
    assert {row.attrs["id"]: row.attrs["data-state"] for row in document.by_id("environments").iter("tr")
            if row.attrs.get("id")} == {"env-aws-dev": "error", "env-azure-dev": "not_deployed",
                                        "env-gcp-dev": "unchecked"}
    assert str(state) in document.by_id("drift-aws-dev").text

    code, checked = _json(cli, "drift", "--all")
    assert code == 1
    assert (checked["gcp-dev"]["status"], checked["azure-dev"]["status"]) == ("in_sync", "not_deployed")
    assert checked["aws-dev"]["status"] == "error" and checked["aws-dev"]["error"] == error

    _restore(error)  # what the error says to do works
    code, rows = _json(cli, "status")
    assert code == 0 and rows["aws-dev"]["last_update"]["resources"] == rows["gcp-dev"]["last_update"]["resources"]


def test_a_state_gone_is_missing_not_undeployed(project: SampleProject, cloud: TestCloud, cli) -> None:
    assert cli("up", "aws-dev", "--yes").code == 0
    assert cli("drift", "aws-dev").code == 0
    state = _stacks(project.root / ".terrane" / "state") / "aws-dev.json"
    state.unlink()

    code, rows = _json(cli, "status")
    error = rows["aws-dev"]["error"]
    assert code == 1 and error.startswith(f"state missing: {state}, but Pulumi.aws-dev.yaml remains")
    assert rows["aws-dev"]["last_drift"]["status"] == "in_sync"  # what the history says stays
    code, checked = _json(cli, "drift", "--all")
    assert code == 1 and checked["aws-dev"]["status"] == "error" and checked["aws-dev"]["error"] == error
    # up would make the stack afresh, and every resource again beside the ones it has lost track of.
    up = cli("up", "aws-dev", "--yes")
    assert up.code == 1 and "state missing" in up.stderr
    assert not state.exists()

    _restore(error)
    assert cli("drift", "aws-dev").code == 0


def test_malformed_drift_snapshots_are_passed_over(project: SampleProject, cloud: TestCloud, cli) -> None:
    assert cli("up", "aws-dev", "--yes").code == 0
    cloud.delete("aws-dev", "bucket")
    assert cli("drift", "aws-dev").code == 2
    snapshots = project.root / ".terrane" / "drift" / "snapshots"
    snapshots.mkdir(exist_ok=True)
    # The newest three: a list, entries of the wrong types, and one cut short.
    for day, snapshot in enumerate((b'[["aws-dev", "in_sync"]]', b'{"folded": [], "latest": {"aws-dev": 2}}',
                                    b'{"folded": ["x"], "lat'), start=1):
        (snapshots / f"9999123{day}T000000000000Z-bad.json").write_bytes(snapshot)

    code, rows = _json(cli, "status")
    assert code == 0 and rows["aws-dev"]["last_drift"]["status"] == "drifted"
    assert cli("status").code == 0
    assert cli("drift", "aws-dev").code == 2


def test_a_read_only_backend_says_which_file_and_why(project: SampleProject, cloud: TestCloud, cli, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with filesystems.tmpfs(tmp_path / "disk", "96m") as disk:
        (disk / "state").mkdir()
        monkeypatch.setenv("TERRANE_BACKEND_URL", (disk / "state").as_uri())
        assert cli("up", "aws-dev", "--yes").code == 0
        filesystems.read_only(disk)
        result = cli("refresh", "aws-dev", "--json")
    assert result.code == 1
    [row] = json.loads(result.stdout)["results"]
    # Pulumi's "2 errors occurred:" and, what says it all, the file it could not write and why.
    assert f"open {disk / 'state' / '.pulumi' / 'locks'}" in row["error"] and "read-only file system" in row["error"]
    assert "errors occurred" not in row["error"] and "\n" not in row["error"]


def test_too_little_room_for_the_state_is_refused(project: SampleProject, cloud: TestCloud, cli, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with filesystems.tmpfs(tmp_path / "disk", "32m") as disk:
        backend = disk / "state"
        monkeypatch.setenv("TERRANE_BACKEND_URL", backend.as_uri())
        result = cli("up", "aws-dev", "--yes")
        doctor = cli("doctor", "--json")
    assert result.code == 1
    assert f"error: aws-dev: no room to up safely: 32 MB free on the filesystem of the state ({backend})" in result.stderr
    assert "64 MB needed" in result.stderr and "nothing was changed" in result.stderr
    assert not cloud.path("aws-dev", "network").exists() and not _stacks(backend).exists()
    [disk_check] = [check for check in json.loads(doctor.stdout)["checks"] if check["name"] == "state disk"]
    assert disk_check["status"] == "fail" and disk_check["detail"].startswith(f"32 MB free on the filesystem of {disk}")


def test_a_state_cut_short_by_a_full_disk_says_how_to_restore_it(project: SampleProject, cloud: TestCloud, cli,
                                                                 tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The incident: the disk fills during an up, and the state and its .bak are cut short.

    Pulumi writes the state through a temporary file and a rename, so a full disk alone cuts short only the
    ``.bak`` (its copy of the state before each save; seen here too). The state and the ``.bak`` are cut short
    as the incident found them, while the disk is full: the CLI cannot write a good one over them, and the up
    ends with the state unreadable and only ``.pulumi/backups`` holding a good copy.
    """
    with filesystems.tmpfs(tmp_path / "disk", "80m") as disk:
        backend = disk / "state"
        backend.mkdir()
        monkeypatch.setenv("TERRANE_BACKEND_URL", backend.as_uri())
        assert cli("up", "aws-dev", "--yes").code == 0
        cloud.delete("aws-dev", "bucket")
        assert cli("refresh", "aws-dev").code == 0  # the newest backup: the state without the bucket
        project.edit_env("aws-dev", lambda env: env["tags"].update({DELAY_TAG: "2"}))
        state = _stacks(backend) / "aws-dev.json"
        filler = threading.Thread(target=_fill_while_creating, args=(cloud, disk, state))
        filler.start()
        result = cli("up", "aws-dev", "--yes")
        filler.join()
        assert result.code == 1
        assert "no space left on device" in result.stderr  # Pulumi's own words, kept
        said = result.stderr[result.stderr.index(f"aws-dev's state {state} does not read after the up"):]
        backups = backend / ".pulumi" / "backups" / "terrane" / "aws-dev"
        assert f"Pulumi keeps backups in {backups}/" in said and f" {state}; then run terrane refresh aws-dev" in said

        (disk / "filler").unlink()
        _restore(said)
        assert cli("up", "aws-dev", "--yes").code == 0
        assert cloud.get("aws-dev", "bucket")["retention"] == 7


def _fill_while_creating(cloud: TestCloud, disk: Path, state: Path) -> None:
    """Once a create is in flight, fill the disk, and cut the state and its .bak short as the incident found them."""
    while not cloud.creating("aws-dev"):
        threading.Event().wait(0.05)
    filesystems.fill(disk)
    for path, size in ((state, 300), (state.with_name(f"{state.name}.bak"), 0)):
        with open(path, "r+b") as stream:
            stream.truncate(size)
    filesystems.fill(disk)  # what that freed too


def test_the_pulumi_clis_logs_are_capped(project: SampleProject, cloud: TestCloud, cli) -> None:
    logs = Path(os.environ["PULUMI_HOME"]) / "logs"
    assert cli("up", "aws-dev", "--yes").code == 0
    written = sorted(path.name for path in logs.iterdir())
    assert written
    assert sorted(entry.name for entry in pulumi_logs.logs(logs)) == written  # the cap knows every log the CLI writes

    old = 1_700_000_000
    for index in range(pulumi_logs.MAX_FILES + 100):
        path = logs / f"pulumi-20231114T{index // 3600:02d}{index // 60 % 60:02d}{index % 60:02d}-{index}-stack_ls.log"
        path.write_bytes(b"\x1f\x8b" + b"\0" * 100)
        os.utime(path, (old + index, old + index))
    assert cli("status").code == 0
    kept = sorted(path.name for path in logs.iterdir())
    assert len(kept) <= pulumi_logs.MAX_FILES
    assert set(written) <= set(kept)  # the newest stay


def test_doctor_reports_the_free_space_of_the_state(two_deployed: Path, cli) -> None:
    result = cli("doctor", "--json")
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["state disk"]["status"] == "ok"
    assert checks["state disk"]["detail"].endswith(f"free on the filesystem of {two_deployed}")
    assert re.match(rf"\d+ files?, [\d.]+ MB in {re.escape(str(pulumi_logs.directory()))} \(terrane keeps the newest ",
                    checks["pulumi logs"]["detail"])
