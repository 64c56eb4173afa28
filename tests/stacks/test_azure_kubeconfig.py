"""How an AKS environment's Kubernetes provider signs in, per auth method of the account.

No Azure provider plugin runs here: this is what the program hands the
Kubernetes provider under the mock runtime, given the stack config the engine sets.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import yaml
from pulumi.runtime import mocks, rpc

from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds import provider_config
from terrane.engine.offline import render as offline
from terrane.engine.offline.fakes import FakeCloud
from terrane.engine.offline.render import SECRET, Rendered, plan, render
from terrane.engine.project import Project, open_project
from terrane.stacks.program import build_program
from terrane.stacks.spec.references import EnvRef, Reference
from tests.helpers.project import SampleProject

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "33333333-3333-3333-3333-333333333333"
CLIENT_SECRET = "azure-client-secret-9c1d"
OIDC_TOKEN = "federated-token-2b7e"
SECRETS = {"AZURE_CLIENT_SECRET": CLIENT_SECRET, "AZURE_OIDC_TOKEN": OIDC_TOKEN}
AUTH: dict[str, dict[str, Any]] = {
    "spn": {"service_principal": {"client_id": CLIENT, "client_secret": {"env": "AZURE_CLIENT_SECRET"}}},
    "workloadidentity": {"oidc": {"client_id": CLIENT, "token": {"env": "AZURE_OIDC_TOKEN"}}},
    "azurecli": {"cli": {}},
}
K8S_PROVIDER = "pulumi:providers:kubernetes"


@pytest.fixture
def provider_kubeconfigs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The kubeconfig of each Kubernetes provider the program registers, as the engine receives it."""
    seen: list[dict[str, Any]] = []

    class Recording(FakeCloud):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            if args.typ == K8S_PROVIDER:
                kubeconfig = args.inputs["kubeconfig"]
                # A secret, so the state keeps it encrypted.
                assert kubeconfig[rpc._special_sig_key] == rpc._special_secret_sig
                seen.append(yaml.safe_load(kubeconfig["value"]))
            return super().new_resource(args)

    monkeypatch.setattr(offline, "FakeCloud", Recording)
    return seen


def _link(sample: SampleProject, login: str) -> Project:
    accounts = sample.load_accounts()
    accounts["accounts"]["azure-sandbox"]["auth"] = AUTH[login]
    sample.write_accounts(accounts)
    return open_project(sample.root)


def _render_linked(project: Project) -> Rendered:
    """azure-dev with the provider config the engine sets on its stack before an operation."""
    env = project.environment("azure-dev")
    account = project.account_for(env)
    region = env.resolved_region(account)
    config = provider_config(env.account, account, region, resolver=_resolve)
    return render(
        build_program(env, account),
        project=project.pulumi_project,
        stack=env.name,
        account_id=account.scope_id,
        region=region,
        config={key: value.reveal() if isinstance(value, Secret) else value for key, value in config.items()},
    )


def _resolve(reference: Reference) -> Secret:
    assert isinstance(reference, EnvRef)
    return Secret(SECRETS[reference.env])


def _exec(kubeconfig: dict[str, Any]) -> dict[str, Any]:
    (user,) = kubeconfig["users"]
    return dict(user["user"]["exec"])


def test_with_a_service_principal_only_the_providers_kubelogin_gets_the_secret(
    sample: SampleProject, provider_kubeconfigs: list[dict[str, Any]]
) -> None:
    project = _link(sample, "spn")
    environ = dict(os.environ)
    rendered = _render_linked(project)

    assert dict(os.environ) == environ
    (kubeconfig,) = provider_kubeconfigs
    execution = _exec(kubeconfig)
    assert execution["args"][:3] == ["get-token", "--login", "spn"]
    assert execution["env"] == [
        {"name": "AZURE_CLIENT_ID", "value": CLIENT},
        {"name": "AZURE_CLIENT_SECRET", "value": CLIENT_SECRET},
        {"name": "AZURE_TENANT_ID", "value": TENANT},
    ]
    assert rendered.outputs["kubeconfig"] == SECRET
    shown = json.dumps([resource.inputs for resource in rendered.resources] + [rendered.outputs])
    assert CLIENT_SECRET not in shown


def test_plan_with_a_service_principal_needs_no_secret_and_shows_none(
    sample: SampleProject, provider_kubeconfigs: list[dict[str, Any]]
) -> None:
    result = plan(_link(sample, "spn"), "azure-dev")

    (kubeconfig,) = provider_kubeconfigs
    execution = _exec(kubeconfig)
    assert execution["args"][:3] == ["get-token", "--login", "spn"]
    assert "env" not in execution
    (provider,) = [r for r in result.resources if r.type == K8S_PROVIDER]
    assert provider.inputs["kubeconfig"] == SECRET
    assert result.to_dict()["outputs"]["kubeconfig"] == SECRET


@pytest.mark.parametrize("login", ["workloadidentity", "azurecli"])
def test_other_logins_pass_no_credential_to_the_provider(
    login: str, sample: SampleProject, provider_kubeconfigs: list[dict[str, Any]]
) -> None:
    _render_linked(_link(sample, login))

    (kubeconfig,) = provider_kubeconfigs
    execution = _exec(kubeconfig)
    assert execution["args"][:3] == ["get-token", "--login", login]
    assert "env" not in execution
    assert OIDC_TOKEN not in json.dumps(kubeconfig)
