"""Object stores emulated on 127.0.0.1, each a real server someone else wrote: Azurite and fake-gcs-server.

``tools/emulators/install`` installs both (once per machine); ``TERRANE_EMULATORS_ROOT`` names an install
already made. moto's server (S3, KMS) is the ``moto_server`` fixture. Each server here runs in a directory
or memory of its own, on a free port, until ``stop``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from terrane.engine.store.azblob import azblob_store
from tests.helpers.project import REPO
from tests.helpers.real_cli import run_tool

ROOT_ENV = "TERRANE_EMULATORS_ROOT"
INSTALL = REPO / "tools" / "emulators" / "install"

AZURE_ACCOUNT = "terranetest"
# Azurite's accounts are ours to name (AZURITE_ACCOUNTS): a sentinel key, not its documented default.
AZURE_KEY = base64.b64encode(b"terrane-azurite-sentinel-key-0123456789").decode()


def find_or_install() -> Path | str:
    """The emulators' root (holding ``bin/``), or why there is none."""
    if os.environ.get(ROOT_ENV):
        root = Path(os.environ[ROOT_ENV])
        missing = [name for name in ("azurite-blob", "fake-gcs-server") if not (root / "bin" / name).exists()]
        return f"{ROOT_ENV}={root} has no bin/{missing[0]}" if missing else root
    if shutil.which("go") and shutil.which("npm"):
        print(f"terrane tests: {INSTALL.relative_to(REPO)} (cached after the first install)", file=sys.stderr,
              flush=True)
        done = run_tool(INSTALL)
        if done.returncode == 0:
            return Path(done.stdout.strip().splitlines()[-1])
        return f"{INSTALL.relative_to(REPO)} failed with exit code {done.returncode}"
    return f"needs Azurite and fake-gcs-server: install Go and npm and run {INSTALL.relative_to(REPO)}, or set {ROOT_ENV}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with {process.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the emulator did not listen on 127.0.0.1:{port} within a minute: {log.read_text()[-2000:]}")


@dataclass
class Emulator:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_azurite(root: Path, directory: Path) -> Emulator:
    """Azurite's blob service, its data in ``directory``, with the one account ``AZURE_ACCOUNT``."""
    port = _free_port()
    log = directory / "azurite.log"
    process = subprocess.Popen(
        [str(root / "bin" / "azurite-blob"), "--blobHost", "127.0.0.1", "--blobPort", str(port),
         "--location", str(directory), "--skipApiVersionCheck", "--loose", "--silent"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
        env={**os.environ, "AZURITE_ACCOUNTS": f"{AZURE_ACCOUNT}:{AZURE_KEY}"})
    _wait_for(port, process, log)
    return Emulator(process, port)


def start_fake_gcs(root: Path, directory: Path) -> Emulator:
    """fake-gcs-server over HTTP, its objects in memory."""
    port = _free_port()
    log = directory / "fake-gcs-server.log"
    process = subprocess.Popen(
        [str(root / "bin" / "fake-gcs-server"), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
         "-backend", "memory", "-public-host", f"127.0.0.1:{port}", "-log-level", "warn"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT)
    _wait_for(port, process, log)
    return Emulator(process, port)


def make_gcs_bucket(server: Emulator, name: str) -> None:
    request = urllib.request.Request(f"http://{server.host}/storage/v1/b?project=terrane", method="POST",
                                     data=json.dumps({"name": name}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).close()


def new_backend(request: pytest.FixtureRequest, scheme: str) -> str | None:
    """A new, empty backend of ``scheme`` on its emulator, as ``TERRANE_BACKEND_URL`` names it; the environment
    its clients need is set."""
    monkeypatch = request.getfixturevalue("monkeypatch")
    name = f"state-{uuid.uuid4().hex[:12]}"
    if scheme == "s3":
        server = request.getfixturevalue("aws")
        boto3.client("s3", endpoint_url=server).create_bucket(Bucket=name)
        return (f"s3://{name}/team?region=us-east-1&endpoint={server.removeprefix('http://')}"
                "&disableSSL=true&s3ForcePathStyle=true")
    if scheme == "azblob":
        azurite: Emulator = request.getfixturevalue("azurite")
        monkeypatch.setenv("AZURE_STORAGE_ACCOUNT", AZURE_ACCOUNT)
        monkeypatch.setenv("AZURE_STORAGE_KEY", AZURE_KEY)
        url = (f"azblob://{name}/team?storage_account={AZURE_ACCOUNT}&localemu=true"
               f"&domain={azurite.host}&protocol=http")
        azblob_store(url, os.environ).container.create_container()
        return url
    if scheme == "gs":
        fake_gcs: Emulator = request.getfixturevalue("fake_gcs")
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs.host)
        monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "terrane-fake-gcs-token")
        make_gcs_bucket(fake_gcs, name)
        return f"gs://{name}/team"
    return None
