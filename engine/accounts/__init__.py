"""Cloud accounts and container registries: the ``accounts.yaml`` registry, verification, secret references,
provider config and the per-cloud bootstraps.

``registry`` links, lists and removes accounts and registries; ``verify`` proves one works (a registry: that
it can pull and cannot push); ``secrets`` resolves references when an operation needs them;
``provider_config`` maps an account to its stacks' provider config; ``aws_bootstrap`` (CloudFormation),
``azure_bootstrap`` (an ARM template) and ``gcp_bootstrap`` (gcloud commands) prepare an account and
terrane's own state store; ``aws_stack`` reads a deployed AWS bootstrap's outputs for ``accounts link``.
"""
