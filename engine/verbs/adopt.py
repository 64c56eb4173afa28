"""``adopt``: map existing objects onto an environment's program, checked with a preview, for ``up`` to import."""

from __future__ import annotations

import os
from pathlib import Path

from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.operations.driver import Driver
from terrane.engine.results import Adopted


def adopt(driver: Driver, name: str, *, tfstate: str | os.PathLike[str] | None,
          ids: str | os.PathLike[str] | None) -> Adopted:
    """What ``Engine.adopt`` says: refused objects raise ``EngineError`` and nothing is written."""
    from terrane.engine.adopt import mapping
    from terrane.engine.offline.render import plan_environment
    from terrane.engine.store import imports
    from terrane.engine.tfstate import read_state

    if tfstate is not None and ids is not None:
        raise InvalidInputError("adopt: give --from-tfstate FILE or --ids FILE, not both")
    project = driver.project
    env = project.environment(name)
    if tfstate is not None:
        source = os.fspath(tfstate)
        matches = mapping.from_tfstate(plan_environment(project, env), read_state(Path(source)))
    elif ids is not None:
        source = os.fspath(ids)
        matches = mapping.from_ids(plan_environment(project, env), Path(source))
    else:
        raise InvalidInputError("adopt: give --from-tfstate FILE (a Terraform state) or --ids FILE")
    adopting = tuple(imports.Import(item.type, item.name, item.id, item.source) for item in matches.adoptions)
    if not adopting:
        return Adopted(env.name, adopting, matches.unmatched, written=None)
    [checked] = driver.run("preview", [env], imports={env.name: adopting})
    if not checked.ok:
        raise EngineError(f"{name}: {checked.error}")
    refused = imports.refusals(adopting, [step.to_dict() for step in checked.planned])
    if refused:
        raise EngineError("\n".join(refused), hint="make the spec match what exists, or leave those objects out "
                                                   "(adopt the others with --ids FILE)")
    written = imports.write(project.root, imports.ImportPlan(env.name, source, adopting))
    return Adopted(env.name, adopting, matches.unmatched, written)
