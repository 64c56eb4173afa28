"""A real Kubernetes API server for the tests that need one, and a small client to look into it.

The binaries come from ``TERRANE_KUBERNETES_ROOT``, else from ``tools/kubernetes/build``
(built now when Go is there, cached per machine). Without them the tests that need
them skip and say why, except in CI (``CI=true``), where they fail
(``real_cli.require``). The client here is the tests' own, independent of
terrane's: it speaks plain HTTPS with the admin certificate the server was started with.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.helpers.real_cli import run_tool

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "tools" / "kubernetes" / "build"
APISERVER = REPO / "tools" / "kubernetes" / "apiserver"
ROOT_ENV = "TERRANE_KUBERNETES_ROOT"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "pulumi-resource-kubernetes")
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
"""What an API server makes itself; everything else a test made."""


def find_or_build() -> Path | str:
    """The root holding ``bin/`` with the API server and the provider, or why there is none."""
    if os.environ.get(ROOT_ENV):
        root = Path(os.environ[ROOT_ENV])
        missing = [name for name in BINARIES if not (root / "bin" / name).is_file()]
        return f"{ROOT_ENV}={root} has no bin/{', bin/'.join(missing)}" if missing else root
    if not shutil.which("go"):
        return f"needs a real kube-apiserver and pulumi-kubernetes provider: install Go and run {BUILD.relative_to(REPO)}"
    print(f"terrane tests: {BUILD.relative_to(REPO)} (cached after the first build)", file=sys.stderr, flush=True)
    built = run_tool(BUILD)
    if built.returncode != 0:
        return f"{BUILD.relative_to(REPO)} failed with exit code {built.returncode}"
    return Path(built.stdout.strip().splitlines()[-1])


class ApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status


@dataclass
class ApiServer:
    """etcd, kube-apiserver and kube-controller-manager, run by ``tools/kubernetes/apiserver`` in ``directory``."""

    directory: Path
    process: subprocess.Popen[str]
    kubeconfig: Path
    server: str = field(init=False)

    def __post_init__(self) -> None:
        found = re.search(r"server: (\S+)", self.kubeconfig.read_text())
        assert found, f"{self.kubeconfig} names no server"
        self.server = found.group(1)

    @classmethod
    def start(cls, root: Path, directory: Path) -> ApiServer:
        process = subprocess.Popen(
            [str(APISERVER), str(directory)], env={**os.environ, ROOT_ENV: str(root)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline().strip()
        if not line:
            process.wait()
            raise RuntimeError(f"{APISERVER.relative_to(REPO)} exited {process.returncode}: {_tail(process.stderr)}")
        return cls(directory, process, Path(line))

    def stop(self) -> None:
        """SIGTERM, as a developer's Ctrl-C would; the script stops its servers before it exits."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise

    def request(self, method: str, path: str, body: Any = None, *, patch: str = "merge") -> Any:
        """One API call as cluster admin; the decoded JSON answer. A patch is a JSON merge patch unless ``patch``."""
        content_type = f"application/{patch}-patch+json" if method == "PATCH" else "application/json"
        request = urllib.request.Request(
            self.server + path, method=method, headers={"Content-Type": content_type},
            data=None if body is None else json.dumps(body).encode(),
        )
        try:
            with urllib.request.urlopen(request, context=self._tls(), timeout=30) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, error.read().decode()) from None

    def get(self, path: str) -> Any | None:
        """The object at ``path``; None when there is none."""
        try:
            return self.request("GET", path)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def running(self) -> bool:
        return self.process.poll() is None

    def namespaces(self) -> set[str]:
        return {item["metadata"]["name"] for item in self.request("GET", "/api/v1/namespaces")["items"]}

    def empty(self, timeout: float = 120) -> None:
        """Delete every namespace but the system's, and wait until the namespace controller has removed them."""
        for name in self.namespaces() - SYSTEM_NAMESPACES:
            try:
                self.request("DELETE", f"/api/v1/namespaces/{name}")
            except ApiError as error:
                if error.status != 404:
                    raise
        deadline = time.monotonic() + timeout
        while left := self.namespaces() - SYSTEM_NAMESPACES:
            if time.monotonic() > deadline:
                raise TimeoutError(f"namespaces {sorted(left)} still there after {timeout:.0f}s")
            time.sleep(0.2)

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.directory / "ca.crt"))
        context.load_cert_chain(self.directory / "admin.crt", self.directory / "admin.key")
        return context


class Clusters:
    """One API server at a time for a test process, emptied before each test that takes it.

    Starting one costs seconds (certificates, etcd, the API server's readiness); a test
    that stops it, to see terrane meet a server out of reach, gets a new one for the next test.
    """

    def __init__(self, root: Path, directories: Callable[[], Path]) -> None:
        self.root = root
        self.directories = directories
        self.server: ApiServer | None = None

    def fresh(self) -> ApiServer:
        """A running API server with no namespace but the system's."""
        if self.server is None or not self.server.running():
            self.server = ApiServer.start(self.root, self.directories())
        else:
            self.server.empty()
        return self.server

    def stop(self) -> None:
        if self.server is not None and self.server.running():
            self.server.stop()


def _tail(stream: IO[str]) -> str:
    return " | ".join(stream.read().strip().splitlines()[-3:])
