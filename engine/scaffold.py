"""``terrane init [DIR]``: a new project, ready for ``terrane plan example``; nothing is ever overwritten."""

from __future__ import annotations

import re
from pathlib import Path

from terrane.engine.errors import InvalidInputError
from terrane.engine.files import write_atomically

_PULUMI_YAML = """\
name: {name}
description: Environments provisioned by terrane (one stack per environments/<name>.yaml)
# The program is terrane's: __main__.py runs it for `pulumi up -s ENV`, with the Python
# that has terrane installed (set PULUMI_PYTHON_CMD, or add `options: {{virtualenv: .venv}}`).
runtime: python
"""

_MAIN = '''\
"""The Pulumi program of this project, for plain `pulumi up -s ENV`: terrane's program for environments/ENV.yaml."""

from terrane.engine.entry import run

run()
'''

_ACCOUNTS = """\
# Linked cloud accounts: identities and references to secrets, never secret values.
# `terrane accounts link` writes this file; `terrane accounts verify` checks each account.
accounts:
  aws-example:
    cloud: aws
    account_id: "123456789012"
    region: us-east-1
    auth:
      assume_role:
        role_arn: arn:aws:iam::123456789012:role/terrane-provisioner
        external_id: {env: TERRANE_AWS_EXTERNAL_ID}
        session_name: terrane
  # azure-example:
  #   cloud: azure
  #   tenant_id: 11111111-1111-1111-1111-111111111111
  #   subscription_id: 22222222-2222-2222-2222-222222222222
  #   location: westeurope
  #   auth:
  #     oidc:                      # or service_principal: {client_id: ..., client_secret: {env: AZURE_CLIENT_SECRET}}
  #       client_id: 33333333-3333-3333-3333-333333333333
  #       token: {file: /var/run/secrets/azure/tokens/azure-identity-token}
  # gcp-example:
  #   cloud: gcp
  #   project: example-project-123
  #   region: europe-west1
  #   auth:
  #     impersonate:               # or service_account_key: {file: ~/.config/terrane/gcp-sa.json}
  #       service_account: terrane@example-project-123.iam.gserviceaccount.com
"""

_EXAMPLE = """\
# An environment: one file, one Pulumi stack. `terrane plan example` shows what it makes,
# offline; `terrane up example` makes it.
name: example
account: aws-example
region: us-east-1
network:
  cidr: 10.20.0.0/16
  zones: 3
  nat: single
  flow_logs: true
cluster:
  kubernetes_version: "1.31"
  endpoint: private
  node_pools:
    - name: system
      size: medium
      min: 2
      max: 4
secrets:
  names: [db-password]
kubernetes:
  namespaces: [apps]
tags:
  team: platform
protect: false
"""

_GITIGNORE = """\
# terrane's local state, passphrase and drift history: never committed.
.terrane/
__pycache__/
"""


def init(directory: Path) -> list[Path]:
    """Write a new project into ``directory`` (made if missing); the files written.

    Refuses, writing nothing, when any of them already exists.
    """
    files = {
        "Pulumi.yaml": _PULUMI_YAML.format(name=_project_name(directory)),
        "__main__.py": _MAIN,
        "accounts.yaml": _ACCOUNTS,
        "environments/example.yaml": _EXAMPLE,
        ".gitignore": _GITIGNORE,
    }
    if directory.exists() and not directory.is_dir():
        raise InvalidInputError(f"{directory}: not a directory")
    existing = [name for name in files if (directory / name).exists()]
    if existing:
        raise InvalidInputError(f"{directory}: {', '.join(existing)} already there; terrane init never overwrites "
                                "a file: choose a new or empty directory")
    for name, text in files.items():
        write_atomically(directory / name, text)
    return [directory / name for name in files]


def _project_name(directory: Path) -> str:
    """The Pulumi project's name: the directory's, in the letters Pulumi allows."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", directory.resolve().name).strip("-.")
    return name or "terrane"
