"""Adopting existing resources: ``terrane adopt ENV --from-tfstate F|--ids F``.

``mapping`` maps what a Terraform state or an ids file (``ids_file``) describes
onto the resources of the environment's program (offline), by the rules of each
cloud (``aws``, ``azure``, ``gcp``, ``kubernetes``, made of the parts in
``rules``); the result is kept as the environment's import plan
(``engine.store.imports``), which ``plan``, ``preview`` and ``up`` apply with
Pulumi's ``import`` option.
"""
