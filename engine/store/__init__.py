"""The ground floor: what every verb shares and no other package owns.

``paths`` says where terrane keeps its files in a project (``.terrane``) and
names the settings that put the state elsewhere; ``environ`` is the allow-list
any child process is given; ``locks`` keeps two terrane runs off one
environment or ``accounts.yaml``; ``imports`` is an environment's import plan
(``imports/ENV.json``), written by ``adopt`` and read by ``plan``, ``preview``
and ``up``; ``objects`` is the store every machine shares beside the state
(the drift history, the config key), on disk or in the backend's object
store (``s3``, ``azblob``, ``gcs``), as ``backends`` picks it. Nothing here imports a package of terrane's, only its top-level
modules (errors, files, project), so every package may import it.
"""
