"""The command line of the hand-written baselines (``handwritten_*.py``), kept out of them.

Each baseline is only what a user would write: a flat Pulumi program and the
literal values of its environment. Running one as a script renders the program
once offline, under the same mocks as ``terrane plan``, and prints its resource
count, or with ``--json`` its registrations and stack outputs, the document
``plan_bench`` checks against the plan.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable


def main(program: Callable[[], None], *, stack: str, account_id: str, region: str) -> None:
    """Render ``program`` as stack ``stack`` of project ``terrane``; ``account_id`` and ``region`` shape fake ids."""
    parser = argparse.ArgumentParser(description=f"Render the hand-written {stack} program offline.")
    parser.add_argument("--json", action="store_true", help="print the registrations and outputs as JSON")
    args = parser.parse_args()
    # Imported here, so a baseline imported for its program() loads no terrane code.
    from terrane.engine.offline.render import render

    rendered = render(program, project="terrane", stack=stack, account_id=account_id, region=region)
    if args.json:
        resources = [
            {"type": r.type, "name": r.name, "custom": r.custom, "inputs": r.inputs} for r in rendered.resources
        ]
        print(json.dumps({"resources": resources, "outputs": rendered.outputs}, default=str))
    else:
        print(f"{len(rendered.resources)} resources")
