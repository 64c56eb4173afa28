"""The README's Kubernetes section, run in a checkout, leaves that checkout's tests passing.

``up local`` and ``drift local`` write ``examples/local-cluster/.terrane/`` and
``Pulumi.local.yaml`` into the checkout they run in. The tests that copy or plan
the example must not see them: they copy only what git tracks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.project import REPO, copy_tracked
from tests.helpers.real_kubernetes import ApiServer

# The tests that copy the example or plan it in place, and one that deploys it on a real API server.
AFFECTED = (
    "tests/cli/test_linked_cluster_spec.py",
    "tests/engine/adopt/test_mapping.py",
    ("tests/engine/offline/test_schema.py::test_every_sample_environment_passes_each_custom_resource_checked"
     "[local-cluster/local]"),
    "tests/real_kubernetes/test_linked_cluster.py::test_preview_shows_what_up_would_make_and_makes_nothing",
)


def test_the_readme_flow_leaves_the_tests_passing(cluster: ApiServer, project: Path, pulumi_root: Path,
                                                  kubernetes_root: Path, tmp_path: Path, cli) -> None:
    checkout = copy_tracked(REPO, tmp_path / "checkout")
    subprocess.run(["git", "init", "-q"], cwd=checkout, check=True)
    subprocess.run(["git", "add", "-A"], cwd=checkout, check=True)
    example = checkout / "examples" / "local-cluster"

    for step in (("up", "local", "--yes"), ("drift", "local")):
        result = cli("--project", example, *step)
        assert result.code == 0, result.stderr
    left = {path.relative_to(example).parts[0] for path in example.iterdir()} - {"Pulumi.yaml", "accounts.yaml",
                                                                                    "environments"}
    assert left == {".terrane", "Pulumi.local.yaml"}

    environ = {**os.environ, "TERRANE_PULUMI_ROOT": str(pulumi_root), "TERRANE_KUBERNETES_ROOT": str(kubernetes_root)}
    for name in ("TERRANE_PROJECT", "PULUMI_HOME"):
        environ.pop(name)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *AFFECTED],
                           cwd=checkout, env=environ, capture_output=True, text=True, check=False)
    assert tests.returncode == 0, tests.stdout[-4000:]
    assert " passed" in tests.stdout.splitlines()[-1] and "skipped" not in tests.stdout.splitlines()[-1]
