"""Record the event streams in this directory from the real Pulumi CLI.

    TERRANE_PULUMI_ROOT="$(tools/pulumi/build | tail -n1)" .venv/bin/python -m tests.recorded.record

Runs the test cloud's program (tests/helpers/testcloud.py) for the sample project's
aws-dev environment through the Automation API, as terrane's worker does, and keeps
every event the CLI streams. Secrets in events are already "[secret]".
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pulumi.automation import _stack

from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds import provider_config
from terrane.engine.operations.workspace import allowed_environment, backend, open_stack
from terrane.engine.project import open_project
from tests.helpers.project import SampleProject
from tests.helpers.testcloud import TestCloud, cloud_of, program
from tests.recorded import HERE

REPO = HERE.parents[1]
EXTERNAL_ID = "recorded-external-id"


def main() -> None:
    root = Path(os.environ["TERRANE_PULUMI_ROOT"])
    cli = subprocess.run([root / "bin" / "pulumi", "version"], capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as scratch:
        project_dir = SampleProject.copy_to(Path(scratch) / "project").root
        os.environ.update({"TERRANE_AWS_EXTERNAL_ID": EXTERNAL_ID, "PULUMI_HOME": f"{scratch}/home",
                           "PULUMI_SKIP_UPDATE_CHECK": "true", "PYTHONPATH": str(REPO)})
        os.chdir(project_dir)
        project = open_project(project_dir)
        env = project.environment("aws-dev")
        account = project.account_for(env)
        os.environ.update(allowed_environment(account, backend(project)))
        stack, _ = open_stack(project, env.name, program(env, account), secrets_provider="passphrase",
                              pulumi_root=str(root))
        stack.set_all_config({key: auto.ConfigValue(value.reveal() if isinstance(value, Secret) else value,
                                                    secret=isinstance(value, Secret))
                              for key, value in provider_config(env.account, account, env.resolved_region(account)).items()},
                             path=True)
        cloud = TestCloud(cloud_of(project_dir))

        record(cli, "up-create", "up", lambda on_event: stack.up(on_event=on_event))
        record(cli, "drift-in-sync", "preview_refresh",
               lambda on_event: stack.preview_refresh(on_event=on_event, run_program=True))

        def drift(network: dict[str, Any]) -> None:
            network["cidr"] = "10.99.0.0/16"
            network["spec"]["nodes"]["max"] = 9
            network["tags"]["kubernetes.io/role"] = "public"
            network["owner"] = "someone"

        cloud.edit("aws-dev", "network", drift)
        def rotate(token: dict[str, Any]) -> None:
            token["value"] = "rotated"
            token["credentials"]["password"] = "rotated"

        cloud.edit("aws-dev", "token", rotate)
        cloud.delete("aws-dev", "bucket")
        record(cli, "drift-every-kind", "preview_refresh",
               lambda on_event: stack.preview_refresh(on_event=on_event, run_program=True))
        stack.destroy()


def record(cli: str, name: str, operation: str, run: Callable[[Callable[[Any], None]], Any]) -> None:
    """Run one operation and write the events the CLI streamed, untouched, to ``<name>.json``."""
    raw: list[dict[str, Any]] = []
    parse = _stack.EngineEvent.from_json

    def keep(event: dict[str, Any]) -> Any:
        raw.append(event)
        return parse(event)

    _stack.EngineEvent.from_json = keep  # type: ignore[method-assign]
    try:
        run(lambda _: None)
    finally:
        _stack.EngineEvent.from_json = parse  # type: ignore[method-assign]
    raw.sort(key=lambda event: event["sequence"])
    text = json.dumps({"cli": cli, "operation": operation, "events": raw}, indent=1, sort_keys=True)
    assert EXTERNAL_ID not in text, "a secret reached the events"
    (HERE / f"{name}.json").write_text(text + "\n")
    print(f"{name}.json: {len(raw)} events")


if __name__ == "__main__":
    main()
