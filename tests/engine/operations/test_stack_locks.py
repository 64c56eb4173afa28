"""Pulumi's locks on a stack: read from a file backend and from S3 (moto), named from the CLI's refusal."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from terrane.engine.operations.stack_locks import holders_in, read
from terrane.engine.store.locks import Holder

LOCK = {"pid": 4242, "username": "ci", "hostname": "build-7", "timestamp": "2026-01-02T04:04:05.123456789+01:00"}
HOLDER = Holder("pulumi", 4242, "build-7", "2026-01-02T03:04:05+00:00", user="ci")

# What the CLI (v3.274.1, a DIY backend) says when it refuses an update on a locked stack, as the
# Automation API's error holds it.
REFUSAL = """
 code: 255
 stdout: Updating (aws-dev):

 stderr: error: the stack is currently locked by 2 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.
  file:///home/ci/my project/.terrane/state/.pulumi/locks/organization/terrane/aws-dev/2a9f.json: created by ci@build-7 (pid 4242) at 2026-01-02T04:04:05+01:00
  s3://state/.pulumi/locks/organization/terrane/aws-dev/77b1.json: created by DOMAIN\\ada@ws-3.corp (pid 17) at 2026-01-02T03:00:00Z
"""


def test_the_holders_the_cli_names_when_it_refuses() -> None:
    first, second = holders_in(REFUSAL)
    assert first == Holder("pulumi", 4242, "build-7", "2026-01-02T03:04:05+00:00", user="ci",
                           where="file:///home/ci/my project/.terrane/state/.pulumi/locks/organization/terrane/aws-dev/2a9f.json")
    assert (second.user, second.host, second.pid, second.since) == ("DOMAIN\\ada", "ws-3.corp", 17,
                                                                     "2026-01-02T03:00:00+00:00")
    assert first.describe() == "a Pulumi update by ci, pid 4242 on build-7, since 2026-01-02T03:04:05+00:00"
    assert holders_in("error: something else failed") == ()


def test_a_file_backend(tmp_path: Path) -> None:
    directory = tmp_path / ".pulumi" / "locks" / "organization" / "terrane" / "aws-dev"
    directory.mkdir(parents=True)
    (directory / "a.json").write_text(json.dumps(LOCK))
    (directory / "b.json").write_text("{not json")
    (tmp_path / ".pulumi" / "locks" / "organization" / "terrane" / "gcp-dev").mkdir()
    (tmp_path / ".pulumi" / "locks" / "organization" / "terrane" / "gcp-dev" / "c.json").write_text(json.dumps(LOCK))

    found = read(tmp_path.as_uri(), "terrane", "aws-dev")
    assert found.unreadable is None
    first, second = found.holders
    assert (first.pid, first.host, first.user, first.since) == (HOLDER.pid, HOLDER.host, HOLDER.user, HOLDER.since)
    assert first.where == str(directory / "a.json")
    assert not second.known and second.describe() == "a holder that does not say who it is"
    assert read(tmp_path.as_uri(), "terrane", "azure-dev").holders == ()
    assert read((tmp_path / "nothing-yet").as_uri(), "terrane", "aws-dev").holders == ()


def test_an_s3_backend(aws: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="state")
    s3.put_object(Bucket="state", Key="team/.pulumi/locks/organization/terrane/aws-dev/a.json", Body=json.dumps(LOCK))
    s3.put_object(Bucket="state", Key="team/.pulumi/locks/organization/terrane/gcp-dev/b.json", Body=json.dumps(LOCK))

    found = read("s3://state/team?region=us-east-1", "terrane", "aws-dev")
    assert found.unreadable is None
    [holder] = found.holders
    assert (holder.pid, holder.host, holder.where) == (4242, "build-7",
                                                       "s3://state/team/.pulumi/locks/organization/terrane/aws-dev/a.json")
    assert read("s3://state?region=us-east-1", "terrane", "aws-dev").holders == ()
    missing = read("s3://no-such-bucket?region=us-east-1", "terrane", "aws-dev")
    assert missing.unreadable and missing.unreadable.startswith("could not read Pulumi's locks in s3://no-such-bucket")


def test_other_backends_say_they_cannot_be_read() -> None:
    found = read("azblob://state?storage_account=acme&sas_token=secret-token", "terrane", "aws-dev")
    assert found.unreadable == "terrane cannot read Pulumi's locks in azblob://state"
    assert "secret" not in str(read("https://user:key@api.pulumi.com", "terrane", "aws-dev"))
