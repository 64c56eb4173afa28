from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from terrane.components.kubernetes import Bootstrap, BootstrapArgs, NamespaceArgs, ServiceAccountArgs
from terrane.engine.offline.render import Rendered, RenderedResource, render
from tests.helpers.rendered import assert_owned

NAMESPACES = ["apps", "observability"]
DEPLOYER = "deployer"
FORCED = {"pulumi.com/patchForce": "true"}
ROLE_ARN = "arn:aws:iam::123456789012:role/secrets-reader"


def _render(reader: ServiceAccountArgs | None) -> Rendered:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}", cluster_identifier="dev")
        bootstrap = Bootstrap(
            "boot",
            BootstrapArgs(
                namespaces=[
                    NamespaceArgs("apps", labels={"team": "web"}, annotations={"owner": "web@example.com"},
                                  service_accounts=[DEPLOYER]),
                    NamespaceArgs("observability"),
                ],
                secrets_reader=reader,
                labels={"app.kubernetes.io/managed-by": "terrane"},
            ),
            pulumi.ResourceOptions(provider=provider),
        )
        pulumi.export("namespaces", bootstrap.namespaces)

    return render(program, project="terrane", stack="test")


@pytest.fixture(scope="module")
def with_reader() -> Rendered:
    return _render(
        ServiceAccountArgs(
            name="secrets-reader",
            annotations={"eks.amazonaws.com/role-arn": pulumi.Output.from_input(ROLE_ARN)},
            labels={"terrane.dev/role": "secrets-reader"},
        )
    )


@pytest.fixture(scope="module")
def without_reader() -> Rendered:
    return _render(None)


def _policies(rendered: Rendered, name: str) -> dict[str, RenderedResource]:
    policies = rendered.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    return {p.inputs["metadata"]["namespace"]: p for p in policies if p.inputs["metadata"]["name"] == name}


@pytest.mark.parametrize("fixture", ["with_reader", "without_reader"])
def test_every_resource_belongs_to_the_component_and_uses_its_provider(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert_owned(rendered, rendered.one("terrane:kubernetes:Bootstrap"), rendered.one("pulumi:providers:kubernetes"))


def test_namespaces_are_named_exactly_and_enforce_restricted_pods(without_reader: Rendered) -> None:
    namespaces = without_reader.of_type("kubernetes:core/v1:Namespace")
    assert sorted(n.inputs["metadata"]["name"] for n in namespaces) == NAMESPACES
    assert sorted(n.name for n in namespaces) == [f"boot-{n}" for n in NAMESPACES]
    for namespace in namespaces:
        labels = namespace.inputs["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["app.kubernetes.io/managed-by"] == "terrane"
    assert without_reader.outputs["namespaces"] == NAMESPACES


def test_a_namespace_carries_its_own_labels_and_annotations(without_reader: Rendered) -> None:
    apps, observability = (_namespace(without_reader, name).inputs["metadata"] for name in NAMESPACES)
    assert apps["labels"]["team"] == "web"
    assert apps["annotations"] == {"owner": "web@example.com", **FORCED}
    assert "team" not in observability["labels"]
    assert observability["annotations"] == FORCED


def test_every_object_takes_its_fields_back_on_apply(with_reader: Rendered) -> None:
    """patchForce: an up after someone changed a field terrane sets restores it, instead of stopping on a conflict."""
    objects = [resource for resource in with_reader.resources if resource.type.startswith("kubernetes:")]
    assert len(objects) == 9  # 2 namespaces, 4 policies, 2 secrets readers and the deployer
    for resource in objects:
        assert resource.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true", resource.name


def test_every_namespace_denies_all_traffic_by_default(without_reader: Rendered) -> None:
    policies = _policies(without_reader, "default-deny")
    assert set(policies) == set(NAMESPACES)
    for namespace, policy in policies.items():
        assert policy.name == f"boot-{namespace}-default-deny"
        # No rules, said outright: terrane owns both lists, so a rule someone adds is drift, and up removes it.
        assert policy.inputs["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [],
                                         "egress": []}
        assert _namespace(without_reader, namespace).urn in policy.depends_on


def test_every_namespace_may_still_resolve_names(without_reader: Rendered) -> None:
    policies = _policies(without_reader, "allow-dns")
    assert set(policies) == set(NAMESPACES)
    for policy in policies.values():
        spec = policy.inputs["spec"]
        assert spec["podSelector"] == {}
        assert spec["policyTypes"] == ["Egress"]
        assert "ingress" not in spec
        (rule,) = spec["egress"]
        assert rule["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}]
        assert sorted((p["protocol"], p["port"]) for p in rule["ports"]) == [("TCP", 53), ("UDP", 53)]


def test_secrets_reader_service_account_in_every_namespace(with_reader: Rendered) -> None:
    accounts = [account for account in with_reader.of_type("kubernetes:core/v1:ServiceAccount")
                if account.inputs["metadata"]["name"] == "secrets-reader"]
    assert sorted(a.inputs["metadata"]["namespace"] for a in accounts) == NAMESPACES
    for account in accounts:
        metadata = account.inputs["metadata"]
        assert metadata["annotations"] == {"eks.amazonaws.com/role-arn": ROLE_ARN, **FORCED}
        assert metadata["labels"]["terrane.dev/role"] == "secrets-reader"
        assert account.inputs["automountServiceAccountToken"] is False
        assert _namespace(with_reader, metadata["namespace"]).urn in account.depends_on


def test_the_service_accounts_a_namespace_names(without_reader: Rendered) -> None:
    (account,) = without_reader.of_type("kubernetes:core/v1:ServiceAccount")
    assert account.name == f"boot-apps-{DEPLOYER}"
    assert account.inputs["metadata"]["name"] == DEPLOYER
    assert account.inputs["metadata"]["namespace"] == "apps"
    assert account.inputs["automountServiceAccountToken"] is False
    assert _namespace(without_reader, "apps").urn in account.depends_on


def _namespace(rendered: Rendered, name: str) -> RenderedResource:
    namespaces = rendered.of_type("kubernetes:core/v1:Namespace")
    return next(n for n in namespaces if n.inputs["metadata"]["name"] == name)
