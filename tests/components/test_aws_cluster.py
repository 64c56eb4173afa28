from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from terrane.components.aws import Cluster, ClusterArgs, EcrRepository, NodePoolArgs
from terrane.components.aws.cluster import kubeconfig
from terrane.engine.offline.render import Rendered, RenderedResource, render
from tests.helpers.rendered import assert_owned

ADMIN = "arn:aws:iam::123456789012:role/terrane-provisioner"
SUBNETS = ["subnet-0a", "subnet-0b", "subnet-0c"]
POOLS = [
    NodePoolArgs(name="system", instance_type="m6i.xlarge", min_size=2, max_size=4),
    NodePoolArgs(name="batch", instance_type="m6i.2xlarge", min_size=0, max_size=3, disk_size_gb=100),
]
LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def _args(**overrides: object) -> ClusterArgs:
    values: dict[str, object] = {
        "kubernetes_version": "1.31",
        "subnet_ids": SUBNETS,
        "endpoint_public": False,
        "authorized_cidrs": [],
        "service_cidr": "172.20.0.0/16",
        "node_pools": POOLS,
        "deletion_protection": True,
        "region": "us-east-1",
        "tags": {"team": "platform"},
    }
    return ClusterArgs(**{**values, **overrides})  # type: ignore[arg-type]


def _render(args: ClusterArgs) -> Rendered:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        cluster = Cluster("dev", args, pulumi.ResourceOptions(provider=provider))
        for output in ("name", "endpoint", "certificate_authority", "oidc_provider_arn", "oidc_issuer", "kubeconfig"):
            pulumi.export(output, getattr(cluster, output))

    return render(program, project="terrane", stack="test")


@pytest.fixture(scope="module")
def private() -> Rendered:
    return _render(_args())


@pytest.fixture(scope="module")
def public_admin() -> Rendered:
    return _render(_args(endpoint_public=True, authorized_cidrs=["203.0.113.0/24"], admin_role_arn=ADMIN))


def _eks(rendered: Rendered) -> RenderedResource:
    return rendered.one("aws:eks/cluster:Cluster")


def _named(rendered: Rendered, type_: str, name: str) -> RenderedResource:
    return next(r for r in rendered.of_type(type_) if r.name == name)


@pytest.mark.parametrize("fixture", ["private", "public_admin"])
def test_every_resource_belongs_to_the_component_and_uses_its_provider(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert_owned(rendered, rendered.one("terrane:aws:Cluster"), rendered.one("pulumi:providers:aws"))


def test_private_endpoint_only(private: Rendered) -> None:
    vpc = _eks(private).inputs["vpcConfig"]
    assert vpc["subnetIds"] == SUBNETS
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc


def test_public_endpoint_is_limited_to_authorized_cidrs(public_admin: Rendered) -> None:
    vpc = _eks(public_admin).inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_public_endpoint_without_authorized_cidrs_is_refused() -> None:
    with pytest.raises(ValueError, match="authorized CIDR"):
        _args(endpoint_public=True, authorized_cidrs=[])


def test_secrets_are_encrypted_with_a_rotating_key(private: Rendered) -> None:
    key = private.one("aws:kms/key:Key")
    eks = _eks(private)
    assert key.inputs["enableKeyRotation"] is True
    assert eks.inputs["encryptionConfig"]["resources"] == ["secrets"]
    assert eks.inputs["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:")
    assert key.urn in eks.depends_on


def test_cluster_settings(private: Rendered) -> None:
    inputs = _eks(private).inputs
    assert inputs["name"] == "dev"
    assert inputs["version"] == "1.31"
    assert inputs["enabledClusterLogTypes"] == LOG_TYPES
    assert inputs["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "172.20.0.0/16"
    assert inputs["deletionProtection"] is True
    assert inputs["tags"] == {"team": "platform"}


def test_cluster_role_is_for_eks_with_the_cluster_policy(private: Rendered) -> None:
    role = _named(private, "aws:iam/role:Role", "dev-cluster")
    assert role.inputs["path"] == "/terrane/"
    assert _eks(private).inputs["roleArn"].startswith("arn:aws:iam::123456789012:role/terrane/dev-cluster-")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "eks.amazonaws.com"}]
    attachment = _named(private, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "dev-cluster")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    assert attachment.urn in _eks(private).depends_on


def test_irsa_oidc_provider_trusts_sts(private: Rendered) -> None:
    oidc = private.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc.inputs["url"].startswith("https://oidc.eks.us-east-1.amazonaws.com/id/")
    assert _eks(private).urn in oidc.depends_on
    assert private.outputs["oidc_issuer"] == oidc.inputs["url"].removeprefix("https://")
    assert private.outputs["oidc_provider_arn"].endswith(private.outputs["oidc_issuer"])


def test_network_policies_are_enforced_by_the_vpc_cni(private: Rendered) -> None:
    addon = private.one("aws:eks/addon:Addon")
    assert addon.inputs["addonName"] == "vpc-cni"
    assert json.loads(addon.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_admin_role_gets_an_access_entry_instead_of_creator_admin(public_admin: Rendered) -> None:
    access = _eks(public_admin).inputs["accessConfig"]
    assert access == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    entry = public_admin.one("aws:eks/accessEntry:AccessEntry")
    assert entry.inputs["principalArn"] == ADMIN
    association = public_admin.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert association.inputs["principalArn"] == ADMIN
    assert association.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert association.inputs["accessScope"] == {"type": "cluster"}
    assert entry.urn in association.depends_on


def test_without_admin_role_the_creator_stays_admin(private: Rendered) -> None:
    access = _eks(private).inputs["accessConfig"]
    assert access == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}
    assert private.of_type("aws:eks/accessEntry:AccessEntry") == []
    assert private.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation") == []


def test_node_role_has_exactly_the_worker_policies(private: Rendered) -> None:
    role = _named(private, "aws:iam/role:Role", "dev-node")
    assert role.inputs["path"] == "/terrane/"
    for group in private.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert group.inputs["nodeRoleArn"].startswith("arn:aws:iam::123456789012:role/terrane/dev-node-")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "ec2.amazonaws.com"}]
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[1]
        for a in private.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if role.urn in a.depends_on
    }
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy"}


def test_launch_templates_require_imdsv2_and_encrypt_the_root_volume(private: Rendered) -> None:
    templates = {t.name: t for t in private.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    assert set(templates) == {"dev-system", "dev-batch"}
    for pool in POOLS:
        inputs = templates[f"dev-{pool.name}"].inputs
        assert inputs["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        }
        (device,) = inputs["blockDeviceMappings"]
        assert device["ebs"]["encrypted"] == "true"
        assert device["ebs"]["volumeType"] == "gp3"
        assert device["ebs"]["volumeSize"] == pool.disk_size_gb


def test_node_groups_run_in_private_subnets_and_leave_desired_size_to_the_autoscaler(private: Rendered) -> None:
    groups = {g.name: g for g in private.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert set(groups) == {"dev-system", "dev-batch"}
    desired = {"system": 2, "batch": 1}
    for pool in POOLS:
        group = groups[f"dev-{pool.name}"]
        template = _named(private, "aws:ec2/launchTemplate:LaunchTemplate", group.name)
        assert group.inputs["subnetIds"] == SUBNETS
        assert group.inputs["instanceTypes"] == [pool.instance_type]
        assert group.inputs["scalingConfig"] == {
            "minSize": pool.min_size,
            "maxSize": pool.max_size,
            "desiredSize": desired[pool.name],
        }
        assert group.inputs["launchTemplate"]["id"].startswith("lt-")
        assert template.urn in group.depends_on
        assert group.inputs["updateConfig"] == {"maxUnavailable": 1}
        assert "scalingConfig.desiredSize" in group.ignore_changes
        assert "diskSize" not in group.inputs


def test_kubeconfig_output_is_secret(private: Rendered, public_admin: Rendered) -> None:
    assert private.outputs["kubeconfig"] == "[secret]"
    assert public_admin.outputs["kubeconfig"] == "[secret]"
    assert private.outputs["name"] == "dev"


def test_kubeconfig_authenticates_with_aws_eks_get_token() -> None:
    config = kubeconfig(
        cluster_name="dev",
        endpoint="https://example.eks.amazonaws.com",
        certificate_authority="Q0E=",
        region="eu-west-1",
        role_arn=ADMIN,
    )
    (cluster,) = config["clusters"]
    assert cluster["cluster"] == {
        "server": "https://example.eks.amazonaws.com",
        "certificate-authority-data": "Q0E=",
    }
    (context,) = config["contexts"]
    assert config["current-context"] == context["name"]
    (user,) = config["users"]
    assert context["context"] == {"cluster": cluster["name"], "user": user["name"]}
    assert user["user"]["exec"] == {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": ["eks", "get-token", "--cluster-name", "dev", "--region", "eu-west-1", "--role-arn", ADMIN],
    }


def test_kubeconfig_without_admin_role_uses_the_ambient_identity() -> None:
    config = kubeconfig(cluster_name="dev", endpoint="https://e", certificate_authority="Q0E=", region="us-east-1")
    assert config["users"][0]["user"]["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "dev",
        "--region",
        "us-east-1",
    ]


BOUNDARY = "arn:aws:iam::123456789012:policy/terrane/terrane-boundary"
REPOSITORIES = [EcrRepository("123456789012", "us-east-1", "platform/web"),
                EcrRepository("210987654321", "eu-west-1", "shared/base")]


@pytest.fixture(scope="module")
def scoped() -> Rendered:
    return _render(_args(pull_repositories=REPOSITORIES, permissions_boundary=BOUNDARY, admin_role_arn=ADMIN))


def test_named_registries_replace_the_managed_ecr_policy_with_exactly_their_repositories(scoped: Rendered) -> None:
    role = _named(scoped, "aws:iam/role:Role", "dev-node")
    attached = {a.inputs["policyArn"].rsplit("/", 1)[1]
                for a in scoped.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if role.urn in a.depends_on}
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"}
    pull = _named(scoped, "aws:iam/rolePolicy:RolePolicy", "dev-node-pull")
    assert role.urn in pull.depends_on
    statements = {s["Sid"]: s for s in json.loads(pull.inputs["policy"])["Statement"]}
    assert [s["Resource"] for s in statements.values() if s["Resource"] == "*"] == ["*"]
    assert statements["PullToken"]["Action"] == "ecr:GetAuthorizationToken"
    assert statements["PullLinkedRepositories"]["Resource"] == [
        "arn:aws:ecr:us-east-1:123456789012:repository/platform/web",
        "arn:aws:ecr:eu-west-1:210987654321:repository/shared/base",
    ]
    assert statements["PullEksAddons"]["Resource"] == "arn:aws:ecr:us-east-1:602401143452:repository/*"
    pulls = {action for s in statements.values() for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert pulls == {"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                     "ecr:BatchCheckLayerAvailability"}
    # The node groups wait for the pull policy as for the managed ones.
    for group in scoped.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert pull.urn in group.depends_on


def test_the_add_on_registry_follows_the_region() -> None:
    rendered = _render(_args(region="eu-south-1", pull_repositories=REPOSITORIES[:1]))
    pull = _named(rendered, "aws:iam/rolePolicy:RolePolicy", "dev-node-pull")
    (addons,) = [s for s in json.loads(pull.inputs["policy"])["Statement"] if s["Sid"] == "PullEksAddons"]
    assert addons["Resource"] == "arn:aws:ecr:eu-south-1:590381155156:repository/*"


def test_every_role_carries_the_permissions_boundary(scoped: Rendered, private: Rendered) -> None:
    roles = scoped.of_type("aws:iam/role:Role")
    assert {role.name for role in roles} == {"dev-cluster", "dev-node"}
    assert all(role.inputs["permissionsBoundary"] == BOUNDARY for role in roles)
    assert all("permissionsBoundary" not in role.inputs for role in private.of_type("aws:iam/role:Role"))
