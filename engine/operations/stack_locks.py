"""Pulumi's own locks on a stack: who holds them, and clearing them.

A DIY backend (a directory, S3, GCS, Azure Blob) keeps one file per lock on a
stack, ``.pulumi/locks/organization/<project>/<stack>/<id>.json``, holding the
pid, user, host and start of the update that holds it. terrane reads them from a
file backend, and from S3 with the operator's own credentials; where it cannot
(gs://, azblob://, Pulumi Cloud), ``read`` says so rather than guess. When the
Pulumi CLI refuses an update because of them, it names them, on every backend
(``holders_in``).
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from terrane.engine.errors import EngineError
from terrane.engine.operations.pulumi_cli import PulumiCli
from terrane.engine.store.locks import Holder

# Where a DIY backend keeps a stack's locks: by project (what terrane makes), or by stack alone (a
# backend from before projects).
_LOCK_DIRS = (".pulumi/locks/organization/{project}/{stack}", ".pulumi/locks/{stack}")

# How the CLI names each lock when it refuses an update: "  <url>: created by <user>@<host> (pid N) at <time>".
_CREATED_BY = re.compile(r"^\s*(?P<where>\S.*?): created by (?P<user>.*)@(?P<host>[^@\s]+) "
                         r"\(pid (?P<pid>\d+)\) at (?P<at>\S+)\s*$", re.MULTILINE)


class StackLockedError(EngineError):
    """Pulumi's locks say another update holds the stack; the message names its holders."""


@dataclass(frozen=True)
class StackLocks:
    """The Pulumi locks held on one stack, or why they cannot be read from here."""

    holders: tuple[Holder, ...] = ()
    unreadable: str | None = None


def read(backend_url: str, project: str, stack: str) -> StackLocks:
    """The locks on ``stack`` of ``project`` in the backend at ``backend_url``."""
    parsed = urllib.parse.urlparse(backend_url)
    if parsed.scheme == "file":
        root = Path(urllib.parse.unquote(parsed.path))
        return StackLocks(tuple(_holder(text, where) for where, text in _files(root, project, stack)))
    if parsed.scheme == "s3":
        return _from_s3(parsed, project, stack)
    shown = parsed._replace(netloc=parsed.hostname or "", query="").geturl()  # never a key or a token
    return StackLocks(unreadable=f"terrane cannot read Pulumi's locks in {shown}")


def holders_in(text: str) -> tuple[Holder, ...]:
    """The holders the Pulumi CLI names when it refuses an update on a locked stack."""
    return tuple(Holder("pulumi", int(found["pid"]), found["host"], _utc(found["at"]), user=found["user"],
                        where=found["where"]) for found in _CREATED_BY.finditer(text))


def clear(cli: PulumiCli, project_root: Path, env: Mapping[str, str], stack: str) -> None:
    """Remove every Pulumi lock on ``stack`` (``pulumi cancel``); on Pulumi Cloud, cancel its update."""
    try:
        done = subprocess.run([str(cli.executable), "cancel", "--yes", "--non-interactive", "--stack", stack],
                              cwd=project_root, env=dict(env), capture_output=True, text=True, timeout=120,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(f"could not clear the Pulumi lock on {stack}: {exc}") from exc
    if done.returncode != 0:
        said = [line.removeprefix("error: ") for line in done.stderr.splitlines() if line.strip()]
        raise EngineError(f"could not clear the Pulumi lock on {stack}: {said[-1] if said else done.returncode}")


def _files(root: Path, project: str, stack: str) -> Iterator[tuple[str, str]]:
    for pattern in _LOCK_DIRS:
        for path in sorted((root / pattern.format(project=project, stack=stack)).glob("*.json")):
            try:
                yield str(path), path.read_text()
            except FileNotFoundError:  # released meanwhile
                continue


def _from_s3(url: urllib.parse.ParseResult, project: str, stack: str) -> StackLocks:
    import boto3
    import botocore.exceptions
    from botocore.config import Config

    query = {key: values[-1] for key, values in urllib.parse.parse_qs(url.query).items()}
    endpoint = query.get("endpoint")
    if endpoint and "://" not in endpoint:
        endpoint = f"{'http' if query.get('disableSSL') == 'true' else 'https'}://{endpoint}"
    path_style = "true" in (query.get("s3ForcePathStyle"), query.get("use_path_style"))
    try:
        client = boto3.Session(profile_name=query.get("profile"), region_name=query.get("region")).client(
            "s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}) if path_style else None)
        found = []
        for pattern in _LOCK_DIRS:
            prefix = "/".join(filter(None, (url.path.strip("/"), pattern.format(project=project, stack=stack), "")))
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=url.netloc, Prefix=prefix):
                for item in page.get("Contents", ()):
                    body = client.get_object(Bucket=url.netloc, Key=item["Key"])["Body"].read().decode()
                    found.append(_holder(body, f"s3://{url.netloc}/{item['Key']}"))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        return StackLocks(unreadable=f"could not read Pulumi's locks in s3://{url.netloc}: {exc}")
    return StackLocks(tuple(found))


def _holder(text: str, where: str) -> Holder:
    """A lock file's holder; one that does not parse is a holder that does not say who it is."""
    try:
        content: Any = json.loads(text)
    except ValueError:
        content = None
    if not isinstance(content, dict):
        return Holder("pulumi", where=where)
    pid = content.get("pid")
    return Holder("pulumi", pid if isinstance(pid, int) else None, content.get("hostname"),
                  _utc(content.get("timestamp")), user=content.get("username"), where=where)


def _utc(stamp: object) -> str | None:
    """A lock's time (Go's RFC 3339, to the nanosecond, in the holder's zone) in UTC, to the second."""
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC).isoformat(timespec="seconds")
    except ValueError:
        return stamp
