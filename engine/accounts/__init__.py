"""Cloud accounts: the ``accounts.yaml`` registry, verification, secret references and provider config.

``registry`` links, lists and removes accounts; ``verify`` proves one works;
``secrets`` resolves references when an operation needs them;
``provider_config`` maps an account to its stacks' provider config;
``aws_bootstrap`` is the CloudFormation template that prepares an AWS account.
"""
