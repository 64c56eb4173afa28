"""What a destroy says while it runs, and what status and the page say after it, on the real Pulumi CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers.project import SampleProject
from tests.helpers.testcloud import TestCloud

BUCKET = "pulumi-python:dynamic:Resource bucket"


def test_a_destroy_shows_its_deletes_and_what_was_gone_already(project: SampleProject, cloud: TestCloud, cli,
                                                               tmp_path: Path) -> None:
    assert cli("up", "aws-dev", "--yes").code == 0
    cloud.delete("aws-dev", "bucket")
    assert cli("drift", "aws-dev").code == 2
    # A refresh says so too, and takes it out of the state.
    refresh = cli("refresh", "aws-dev", "--target", "bucket")
    assert refresh.code == 0 and f"aws-dev: gone from the cloud already: {BUCKET}" in refresh.stderr.splitlines()
    assert cli("up", "aws-dev", "--yes").code == 0  # made again
    cloud.delete("aws-dev", "bucket")

    destroy = cli("destroy", "aws-dev", "--yes", "--json")
    assert destroy.code == 0, destroy.stderr
    lines = [line.removeprefix("aws-dev: ") for line in destroy.stderr.splitlines() if line.startswith("aws-dev: ")]
    # The bucket, deleted out of band, is said to be gone, and neither deleted nor counted.
    assert lines[0] == f"gone from the cloud already: {BUCKET}", lines
    deleted = lines[1:]
    assert all(line.startswith("deleted ") for line in deleted), lines  # no "unchanged" for what the program ran
    assert not any(BUCKET in line for line in deleted)
    assert {"pulumi:pulumi:Stack terrane-aws-dev", "pulumi-python:dynamic:Resource network"} <= {
        re.sub(r" \(.*\)$", "", line.removeprefix("deleted ")) for line in deleted}
    counts = [re.search(r"\((\d+)/(\d+) done", line).groups() for line in deleted]  # type: ignore[union-attr]
    assert counts[-1] == (str(len(deleted)), str(len(deleted)))  # the counter ends at every delete done
    (result,) = json.loads(destroy.stdout)["results"]
    assert result["changes"] == {"delete": 4}  # the stack, the group, the network and the token: not the bucket

    # A destroyed environment has no drift state: status and the page say so, not the check before the destroy.
    (status,) = [row for row in json.loads(cli("status", "--json").stdout)["environments"]
                 if row["environment"] == "aws-dev"]
    assert status["last_update"]["resources"] == 0 and status["last_drift"] is None
    page = tmp_path / "page.html"
    assert cli("report", "--html", page).code == 0
    assert re.search(r'id="env-[^"]*aws-dev[^"]*"[^>]*data-state="not_deployed"', page.read_text())
