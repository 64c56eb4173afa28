"""What a faker sees, and the helpers every provider package's faker shares."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Request:
    """A resource registration or a data source call, as the fake cloud receives it.

    ``account_id`` is the cloud's account scope: an AWS account id, an Azure
    subscription id or a GCP project id.
    """

    type: str
    name: str
    inputs: Mapping[str, Any]
    account_id: str
    region: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.type}::{self.name}".encode()).hexdigest()

    @property
    def module(self) -> str:
        """``ec2`` of ``aws:ec2/vpc:Vpc``, ``network`` of ``azure-native:network:VirtualNetwork``."""
        return self.type.split(":")[1].split("/")[0]

    @property
    def kind(self) -> str:
        """``vpc`` of ``aws:ec2/vpc:Vpc``; the last token part, lower-camel-cased."""
        last = self.type.split(":")[-1]
        return last[:1].lower() + last[1:]

    def hex(self, length: int) -> str:
        return self.digest[:length]

    def uuid(self) -> str:
        d = self.digest
        return f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}"

    def physical_name(self, *keys: str, separator: str = "-") -> str:
        """The name the program gave (under the first of ``keys`` present), else an auto-name.

        Pulumi auto-names a resource "<logical name>-<7 hex>" when no name is given.
        """
        for key in (*keys, "name"):
            given = self.inputs.get(key)
            if isinstance(given, str) and given:
                return given
        return f"{self.name}{separator}{self.hex(7)}"


ResourceFaker = Callable[[Request], dict[str, Any]]
"""Returns the computed state of a resource, including its ``id``."""

InvokeFaker = Callable[[Request], dict[str, Any]]
"""Returns the result of a data source call."""
