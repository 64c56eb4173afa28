"""Fake Terraform state references: pulumi-terraform's ``terraform:state:*`` functions, answered offline.

A local state is read for real (``engine.tfstate``), so a plan shows the ids it holds. A state in an S3
bucket, an Azure storage account or a remote workspace is not reachable offline: its outputs are unknown,
and so is every value a program reads from them (``[unknown]`` in the plan). Nothing is fetched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from terrane.engine.clouds.base import InvokeFaker, Request
from terrane.engine.tfstate import read_state

LOCAL = "terraform:state:getLocalReference"
S3 = "terraform:state:getS3Reference"
AZURERM = "terraform:state:getAzureRMReference"
REMOTE = "terraform:state:getRemoteReference"

NOT_READ_OFFLINE = "(not read offline)"
"""The one output of a state that is not read offline; its value is unknown, which makes the whole map unknown."""


def _local(request: Request) -> dict[str, Any]:
    """The outputs of the state file at ``path`` (the project loader made it absolute and checked it)."""
    return {"outputs": dict(read_state(Path(str(request.inputs["path"]))).outputs)}


def _not_read(request: Request) -> dict[str, Any]:
    # The SDK's typed result takes a map, never an unknown one: a map that holds an unknown value is unknown
    # as a whole, so that no program reads a known value, or a missing output, from it.
    return {"outputs": {NOT_READ_OFFLINE: rpc.UNKNOWN}}


INVOKES: dict[str, InvokeFaker] = {LOCAL: _local, S3: _not_read, AZURERM: _not_read, REMOTE: _not_read}
