"""Adopting existing resources: ``terrane adopt ENV --from-tfstate F|--ids F``.

``mapping`` maps what a Terraform state or an ids file describes onto the
resources of the environment's program (offline); the result is kept as the
environment's import plan (``engine.store.imports``), which ``plan``,
``preview`` and ``up`` apply with Pulumi's ``import`` option.
"""
