"""The remediation's mark on Kubernetes objects, rendered under Pulumi's mock runtime (the real run: tests/real_kubernetes)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from terrane.components.kubernetes import Bootstrap, BootstrapArgs, NamespaceArgs, ServiceAccountArgs
from terrane.engine.drift.reconcile import ANNOTATION, Reconcile, reconciling
from terrane.engine.drift.report import PropertyDrift, ResourceDrift
from terrane.engine.offline.render import render

POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"


def _program() -> None:
    provider = k8s.Provider("k8s", kubeconfig="{}", cluster_identifier="dev")
    reader = ServiceAccountArgs("reader", annotations={"role": pulumi.Output.from_input("arn")})
    Bootstrap("boot", BootstrapArgs(namespaces=[NamespaceArgs("apps")], secrets_reader=reader),
              pulumi.ResourceOptions(provider=provider))
    k8s.core.v1.ConfigMap("plain", metadata={"name": "plain"}, data={"a": "b"},
                          opts=pulumi.ResourceOptions(provider=provider))


def test_only_the_named_objects_are_marked_and_keep_their_annotations() -> None:
    chosen = Reconcile(((POLICY, "boot-apps-default-deny"), (ACCOUNT, "boot-apps-reader"),
                        ("kubernetes:core/v1:ConfigMap", "plain")))
    rendered = render(reconciling(_program, chosen, "run-1"), project="terrane", stack="test")
    marked = {resource.name: resource.inputs["metadata"].get("annotations", {})
              for resource in rendered.resources if resource.type.startswith("kubernetes:")}
    assert marked["boot-apps-default-deny"] == {"pulumi.com/patchForce": "true", ANNOTATION: "run-1"}
    assert marked["boot-apps-reader"] == {"role": "arn", "pulumi.com/patchForce": "true", ANNOTATION: "run-1"}
    assert marked["plain"] == {ANNOTATION: "run-1"}
    unmarked = [name for name, annotations in marked.items() if ANNOTATION not in annotations]
    assert sorted(unmarked) == ["boot-apps", "boot-apps-allow-dns"]


def test_nothing_to_mark_is_the_program_itself() -> None:
    assert reconciling(_program, Reconcile(), "run-1") is _program


def test_what_no_apply_takes_away_is_replaced_but_never_a_namespace() -> None:
    urn = "urn:pulumi:dev::terrane::terrane:kubernetes:Bootstrap$"
    added = (PropertyDrift("spec.ingress", "add", None, [{}]),)
    drifted = [
        ResourceDrift(f"{urn}{POLICY}::boot-apps-default-deny", POLICY, "update", added, unapplied=("spec.ingress",)),
        ResourceDrift(f"{urn}kubernetes:core/v1:Namespace::boot-apps", "kubernetes:core/v1:Namespace", "update",
                      added, unapplied=("spec.ingress",)),
        ResourceDrift(f"{urn}{ACCOUNT}::boot-apps-reader", ACCOUNT, "delete"),
        ResourceDrift("urn:pulumi:dev::terrane::aws:ec2/vpc:Vpc::vpc", "aws:ec2/vpc:Vpc", "update", added),
    ]
    reconcile = Reconcile.of(drifted)
    assert reconcile.marks == ((POLICY, "boot-apps-default-deny"), ("kubernetes:core/v1:Namespace", "boot-apps"))
    assert reconcile.replace == (f"{urn}{POLICY}::boot-apps-default-deny",)
