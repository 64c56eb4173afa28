"""The pinned tools of tools/: one version of the Pulumi CLI, not older than the SDK terrane runs."""

from __future__ import annotations

import re
from importlib import metadata

from tests.helpers.project import REPO


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_the_cli_pin_is_one_version_not_older_than_the_sdk() -> None:
    go_mod = (REPO / "tools" / "pulumi" / "go.mod").read_text()
    pins = dict(re.findall(r"^\s*github\.com/pulumi/pulumi/(pkg|sdk)/v3 v(\S+)$", go_mod, re.MULTILINE))
    assert set(pins) == {"pkg", "sdk"} and pins["pkg"] == pins["sdk"]
    assert _version(pins["pkg"]) >= _version(metadata.version("pulumi"))
    # pkg/go.mod's replace of its own ../sdk would not resolve outside Pulumi's repository.
    assert "=> ../sdk" not in go_mod and "replace github.com/atotto/clipboard =>" in go_mod
