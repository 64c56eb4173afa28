"""Stack operations: the driver, one worker process per environment, the stack's workspace and the Pulumi CLI.

``driver`` runs an operation on many environments, at most N at once, each in
a worker (``worker``) forked from a warm ``forkserver``. ``workspace`` decides
where a stack lives and what its CLI may see; ``pulumi_cli`` finds that CLI;
``locks`` keeps two terrane runs off one environment; ``programs`` names the
Pulumi program that runs.
"""
