"""Two checkouts of one project on one shared backend, as two machines: they deploy, check and report as one.

Each object store the backend may be, on its emulator, reached by the real CLI (Pulumi's own client) and by
terrane's store: S3 on moto's server with its secrets in a KMS key there (``s3://...&endpoint=``,
``awskms://...&endpoint=``), Azure Blob on Azurite, and GCS on fake-gcs-server (the last two with a
passphrase both checkouts share). Checkout B is a fresh clone of A's committed files: ``Pulumi.yaml``,
``accounts.yaml``, ``environments/`` and ``Pulumi.<env>.yaml``, none of ``.terrane/``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from terrane.engine.drift.history import project_history
from tests.helpers import emulators
from tests.helpers.dom import parse
from tests.helpers.project import SampleProject
from tests.helpers.testcloud import TestCloud


@pytest.fixture(params=["s3", pytest.param("azblob", marks=pytest.mark.emulators),
                        pytest.param("gs", marks=pytest.mark.emulators)])
def shared(request: pytest.FixtureRequest, project: SampleProject,
           monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """A new backend of each kind for the project; returns a switch between checkouts "a" and "b"."""
    url = emulators.new_backend(request, request.param)
    assert url
    monkeypatch.setenv("TERRANE_BACKEND_URL", url)
    if request.param == "s3":
        key = boto3.client("kms").create_key()["KeyMetadata"]["KeyId"]
        boto3.client("kms").create_alias(AliasName="alias/terrane", TargetKeyId=key)
        endpoint = request.getfixturevalue("aws")
        monkeypatch.setenv("TERRANE_SECRETS_PROVIDER", f"awskms://alias/terrane?region=us-east-1&endpoint={endpoint}")
    else:
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "the passphrase both checkouts share")
    b = project.root.parent / "checkout-b"  # beside A, so the test cloud (beside the project) is the same one
    shutil.copytree(project.root, b, ignore=shutil.ignore_patterns(".terrane"))
    checkouts = {"a": project.root, "b": b}

    def switch(name: str) -> None:
        monkeypatch.setenv("TERRANE_PROJECT", str(checkouts[name]))

    return switch


def _pull(project: SampleProject) -> None:
    """Checkout B takes A's committed stack file (``git pull``)."""
    shutil.copy(project.root / "Pulumi.aws-dev.yaml", project.root.parent / "checkout-b" / "Pulumi.aws-dev.yaml")


def _status(cli) -> dict[str, dict]:
    result = cli("status", "--json")
    assert result.code == 0, result.stderr
    return {row["environment"]: row for row in json.loads(result.stdout)["environments"]}


def test_two_checkouts_deploy_check_and_report_as_one(project: SampleProject, cloud: TestCloud, cli,
                                                      shared: Callable[[str], None], tmp_path: Path) -> None:
    shared("a")
    assert cli("up", "aws-dev", "--yes").code == 0
    committed = (project.root / "Pulumi.aws-dev.yaml").read_bytes()
    # The config key and the history are in the backend; only terrane's own lock of the run stays on the machine.
    assert [path.name for path in (project.root / ".terrane").iterdir()] == ["locks"]

    # B deploys the same config: the committed file stays byte for byte what A wrote.
    _pull(project)
    shared("b")
    assert cli("up", "aws-dev", "--yes").code == 0
    assert (project.root.parent / "checkout-b" / "Pulumi.aws-dev.yaml").read_bytes() == committed

    # B checks; A sees B's check, with the same time, and the history is one, in the bucket.
    cloud.delete("aws-dev", "bucket")
    assert cli("drift", "aws-dev").code == 2
    seen_by_b = _status(cli)["aws-dev"]
    shared("a")
    seen_by_a = _status(cli)["aws-dev"]
    assert seen_by_a["last_drift"] == seen_by_b["last_drift"] and seen_by_a["last_drift"]["status"] == "drifted"
    assert seen_by_a["last_update"] == seen_by_b["last_update"]
    assert [path.name for path in (project.root / ".terrane").iterdir()] == ["locks"]
    assert len(list(project_history(project.root).store.keys("drift/runs/"))) == 1

    # The same page from either checkout.
    pages = {}
    for name in ("a", "b"):
        shared(name)
        assert cli("report", "--html", tmp_path / f"{name}.html").code == 0
        document = parse((tmp_path / f"{name}.html").read_text())
        summary = document.by_id("history-aws-dev").one("table", "history-table")
        pages[name] = ([(row.one("th").text, row.all("td")[0].text) for row in summary.one("tbody").iter("tr")],
                       document.by_id("env-aws-dev").text)
    assert pages["a"] == pages["b"] and pages["a"][0] == [("drifted", "1")]
