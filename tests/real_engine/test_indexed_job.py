"""The Indexed Job of ``deploy/kubernetes`` for real: applied to a real API server, whose Job controller makes its
indexed pods (no kubelet runs them), then each pod's command run here with its index, on one shared backend.

What the cluster proves: the manifests are valid objects, and the Job makes one pod per shard, each with its
completion index, the manifest's command and its environment. What the shards prove, run with the real CLI
against moto's S3: they record one history, and whichever ends last renders the page of every environment.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from terrane.engine.drift.history import project_history
from tests.helpers import emulators
from tests.helpers.dom import parse
from tests.helpers.project import REPO, SampleProject
from tests.helpers.real_kubernetes import ApiServer
from tests.helpers.testcloud import TestCloud

INDEXED = REPO / "deploy" / "kubernetes" / "indexed-job.yaml"
PATHS = {"ServiceAccount": "/api/v1/namespaces/{}/serviceaccounts",
         "PersistentVolumeClaim": "/api/v1/namespaces/{}/persistentvolumeclaims",
         "CronJob": "/apis/batch/v1/namespaces/{}/cronjobs"}

pytestmark = pytest.mark.kubernetes


def _manifests() -> list[dict[str, Any]]:
    """The manifests with each ``<placeholder>`` filled in with its own name (a valid one)."""
    text = re.sub(r"<([a-z0-9-]+)>", r"\1", INDEXED.read_text())
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _pods(apiserver: ApiServer, namespace: str, job: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while True:
        pods = apiserver.request("GET", f"/api/v1/namespaces/{namespace}/pods?labelSelector=job-name%3D{job}")["items"]
        if len(pods) >= count or time.monotonic() > deadline:
            return list(pods)
        time.sleep(0.3)


def test_the_job_makes_a_pod_per_shard_with_its_index_command_and_environment(apiserver: ApiServer) -> None:
    namespace = f"drift-{uuid.uuid4().hex[:8]}"
    apiserver.request("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
    docs = _manifests()
    for doc in docs:
        apiserver.request("POST", PATHS[doc["kind"]].format(namespace), doc)
    [cronjob] = [doc for doc in docs if doc["kind"] == "CronJob"]
    template = cronjob["spec"]["jobTemplate"]
    # As `kubectl create job --from=cronjob/terrane-drift-sharded terrane-drift-now` makes it.
    apiserver.request("POST", f"/apis/batch/v1/namespaces/{namespace}/jobs", {
        "metadata": {"name": "terrane-drift-now", "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                     "labels": template["metadata"]["labels"]},
        "spec": template["spec"]})
    completions = template["spec"]["completions"]
    pods = _pods(apiserver, namespace, "terrane-drift-now", completions)

    assert sorted(int(pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]) for pod in pods) \
        == list(range(completions))
    [wanted] = template["spec"]["template"]["spec"]["containers"]
    for pod in pods:
        [drift] = pod["spec"]["containers"]
        assert drift["command"] == wanted["command"]
        env = {var["name"]: var for var in drift["env"]}
        # The Job controller gives each container its index (from the pod's label, in Kubernetes 1.36); the
        # manifest, the rest.
        assert env["JOB_COMPLETION_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"] == \
            "metadata.labels['batch.kubernetes.io/job-completion-index']"
        assert {var["name"] for var in wanted["env"]} <= set(env)
        assert env["TERRANE_BACKEND_URL"]["value"].startswith("s3://")
        assert pod["spec"]["serviceAccountName"] == "terrane-drift" and pod["status"]["phase"] == "Pending"
        claims = {volume["persistentVolumeClaim"]["claimName"] for volume in pod["spec"]["volumes"]
                  if "persistentVolumeClaim" in volume}
        assert claims == {"terrane-drift-page"}


def test_the_shards_make_one_history_and_one_page(project: SampleProject, cloud: TestCloud, cli,
                                                  request: pytest.FixtureRequest, webhook, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each pod's command, run here with its index (the page's path moved under the test's directory)."""
    url = emulators.new_backend(request, "s3")
    assert url
    monkeypatch.setenv("TERRANE_BACKEND_URL", url)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "the passphrase every shard has")
    for name in ("aws-dev", "azure-dev"):  # shard 1's and shard 2's; gcp-dev (shard 2's too) is not deployed
        assert cli("up", name, "--yes").code == 0
    cloud.delete("aws-dev", "bucket")
    [cronjob] = [doc for doc in _manifests() if doc["kind"] == "CronJob"]
    template = cronjob["spec"]["jobTemplate"]["spec"]
    [drift] = template["template"]["spec"]["containers"]
    page = tmp_path / "page"
    page.mkdir()
    command = [part.replace("/work/page", str(page)) for part in drift["command"]]
    bin_dir = Path(sys.executable).parent  # the venv's, which holds terrane
    hook, hooks = webhook
    shards = [subprocess.Popen(command, env={**os.environ, "JOB_COMPLETION_INDEX": str(index),
                                             "TERRANE_DRIFT_WEBHOOK": hook,
                                             "PATH": f"{bin_dir}:/usr/bin:/bin"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for index in range(template["completions"])]
    codes = [shard.wait(300) for shard in shards]
    outputs = [shard.communicate() for shard in shards]
    # aws-dev is shard 1's and drifted; azure-dev is shard 2's, in sync; shards 0 and 3 have none.
    assert codes == [0, 2, 0, 0], outputs
    runs = list(project_history(project.root).runs())
    assert sorted(entry["environment"] for run in runs for entry in run["environments"]) == ["aws-dev", "azure-dev"]
    document = parse((page / "report.html").read_text())
    rows = document.by_id("environments").iter("tr", "environment")
    assert {row.attrs["id"]: row.attrs["data-state"] for row in rows} == {
        "env-aws-dev": "drifted", "env-azure-dev": "in_sync", "env-gcp-dev": "not_deployed"}
    # One notice, from the shard that found the drift.
    assert [(note["environment"], note["kind"]) for body in hooks.bodies for note in body["environments"]] == [
        ("aws-dev", "new")]
