"""A failed Pulumi CLI run, as the worker reports it: the CLI's error lines on one line, and every reason they give."""

from __future__ import annotations

from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import CommandError

from terrane.engine.operations.pulumi_messages import error_lines as _error_lines

# What the real CLI (v3.274.1) printed for a refresh on a read-only file backend.
READ_ONLY = ("error: 2 errors occurred:\n"
             "    1) open /srv/state/.pulumi/locks/organization/terrane/aws-dev/00554a7f.json.18eee4cb.tmp: "
             "read-only file system\n"
             "    2) Unknown\n")


def _failed(stderr: str, stdout: str = "") -> CommandError:
    return CommandError(CommandResult(stdout=stdout, stderr=stderr, code=1))


def test_the_reasons_of_several_errors_are_kept() -> None:
    assert _error_lines(_failed(READ_ONLY)) == (
        "open /srv/state/.pulumi/locks/organization/terrane/aws-dev/00554a7f.json.18eee4cb.tmp: read-only file system; "
        "Unknown")


def test_go_multierror_reasons_follow_their_heading() -> None:
    stderr = ("error: aws-dev: 2 errors occurred:\n\t* writing aws-dev.json: no space left on device\n"
              "\t* writing aws-dev.json: no space left on device\n\t* removing the lock: EROFS\n\n")
    assert _error_lines(_failed(stderr)) == (
        "aws-dev: writing aws-dev.json: no space left on device; removing the lock: EROFS")


def test_only_the_lines_under_the_heading_are_its_reasons() -> None:
    stdout = "Updating (aws-dev):\n * not a reason\n"
    stderr = "error: update failed\n* not a reason either\nerror: 1 error occurred:\n\t* the reason\n"
    assert _error_lines(_failed(stderr, stdout)) == "update failed; the reason"


def test_one_error_is_as_the_cli_says_it() -> None:
    assert _error_lines(_failed("error: failed to load checkpoint: unexpected end of JSON input\n")) == (
        "failed to load checkpoint: unexpected end of JSON input")
    assert _error_lines(_failed("panic: something odd\n")) == "panic: something odd"
