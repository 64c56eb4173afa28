"""The gcp-dev environment written by hand as one flat Pulumi program: a baseline of ``plan_bench``.

It registers the same custom resources, with the same inputs, as ``terrane plan
gcp-dev`` (the components' own ComponentResources aside), using nothing but
``pulumi_gcp`` and ``pulumi_kubernetes``: no terrane components, no spec, no
YAML. Timing it tells what the same plan costs a user who writes Pulumi by
hand, so terrane's own overhead is the difference. Values mirror
``environments/gcp-dev.yaml`` and ``accounts.yaml`` literally, as a hand-written
program would; inputs are kept equal to terrane's, down to empty ``labels``, so
``plan_bench`` can check that the two stay the same plan while the components
evolve.

Run as a script, it renders itself once offline and prints its resource count
(``--json``: the registrations and stack outputs, for that check; see ``_baseline``).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

ENV = "gcp-dev"
ACCOUNT = "gcp-sandbox"
PROJECT = "sandbox-project-123"
REGION = "europe-west1"
INCARNATION = "<incarnation>"  # what a plan shows for the id the engine gives each new stack
LABELS = {"team": "platform", "cost-center": "1234", "terrane-environment": ENV, "managed-by": "terrane"}

SUBNET_CIDR = "10.20.0.0/16"
PODS_RANGE = f"{ENV}-pods"
SERVICES_RANGE = f"{ENV}-services"
ZONE_COUNT = 3
KUBERNETES_VERSION = "1.31"
# name, machine type, min, max (across all zones)
NODE_POOLS = [("system", "e2-standard-4", 2, 4), ("batch", "e2-standard-8", 0, 10)]
NODE_ROLES = [
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
]
SECRET_NAMES = ["db-password", "api-token"]
NAMESPACES = ["apps", "observability"]
SECRETS_READER = "secrets-reader"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
KEY_ROTATION = "7776000s"  # 90 days


def program() -> None:
    """Register the gcp-dev environment; run it under the Automation API or ``terrane.engine.offline.render``."""
    provider = gcp.Provider(
        ACCOUNT,
        project=PROJECT,
        region=REGION,
        credentials=pulumi.Config("gcp").get_secret("credentials"),
        default_labels=LABELS,
    )
    opts = pulumi.ResourceOptions(provider=provider)
    invoke = pulumi.InvokeOutputOptions(provider=provider)
    zones = gcp.compute.get_zones_output(project=PROJECT, region=REGION, status="UP", opts=invoke).names.apply(
        lambda names: sorted(names)[:ZONE_COUNT]
    )
    project_number = gcp.organizations.get_project_output(project_id=PROJECT, opts=invoke).number

    # Network
    network = gcp.compute.Network(
        f"{ENV}-vpc",
        name=ENV,
        auto_create_subnetworks=False,
        routing_mode="REGIONAL",
        delete_default_routes_on_create=False,
        opts=opts,
    )
    subnet = gcp.compute.Subnetwork(
        f"{ENV}-subnet",
        name=ENV,
        network=network.id,
        region=REGION,
        ip_cidr_range=SUBNET_CIDR,
        secondary_ip_ranges=[
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE, ip_cidr_range="100.64.0.0/14"),
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=SERVICES_RANGE, ip_cidr_range="172.20.0.0/16"),
        ],
        private_ip_google_access=True,
        log_config=gcp.compute.SubnetworkLogConfigArgs(
            aggregation_interval="INTERVAL_5_SEC", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"
        ),
        opts=opts,
    )
    router = gcp.compute.Router(f"{ENV}-router", name=f"{ENV}-router", network=network.id, region=REGION, opts=opts)
    gcp.compute.RouterNat(
        f"{ENV}-nat",
        name=f"{ENV}-nat",
        router=router.name,
        region=REGION,
        nat_ip_allocate_option="AUTO_ONLY",
        source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
        subnetworks=[gcp.compute.RouterNatSubnetworkArgs(name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])],
        log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
        opts=opts,
    )

    # GKE cluster
    cluster_key_ring = gcp.kms.KeyRing(
        f"{ENV}-gke-keyring", name=f"{ENV}-gke-{INCARNATION}", location=REGION, project=PROJECT, opts=opts
    )
    cluster_key = gcp.kms.CryptoKey(
        f"{ENV}-gke-key",
        name="gke-secrets",
        key_ring=cluster_key_ring.id,
        rotation_period=KEY_ROTATION,
        labels={},
        opts=opts,
    )
    cluster_key_binding = gcp.kms.CryptoKeyIAMMember(
        f"{ENV}-gke-key-agent",
        crypto_key_id=cluster_key.id,
        role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member=pulumi.Output.concat(
            "serviceAccount:service-", project_number, "@container-engine-robot.iam.gserviceaccount.com"
        ),
        opts=opts,
    )
    node_account = gcp.serviceaccount.Account(
        f"{ENV}-nodes",
        account_id=f"{ENV}-nodes",
        display_name=f"GKE nodes of {ENV}",
        project=PROJECT,
        opts=opts,
    )
    node_roles: list[pulumi.Resource] = [
        gcp.projects.IAMMember(
            f"{ENV}-nodes-{role.removeprefix('roles/').replace('.', '-')}",
            project=PROJECT,
            role=role,
            member=node_account.member,
            opts=opts,
        )
        for role in NODE_ROLES
    ]
    # The cluster names the registry gcp-images: its nodes may pull from that repository only.
    node_roles.append(gcp.artifactregistry.RepositoryIamMember(
        f"{ENV}-nodes-pull-{PROJECT}-{REGION}-platform",
        project=PROJECT,
        location=REGION,
        repository="platform",
        role="roles/artifactregistry.reader",
        member=node_account.member,
        opts=opts,
    ))
    cluster = gcp.container.Cluster(
        f"{ENV}-gke",
        name=ENV,
        project=PROJECT,
        location=REGION,
        node_locations=zones,
        network=network.self_link,
        subnetwork=subnet.self_link,
        networking_mode="VPC_NATIVE",
        ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
            cluster_secondary_range_name=PODS_RANGE, services_secondary_range_name=SERVICES_RANGE
        ),
        private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
            enable_private_nodes=True, enable_private_endpoint=True, master_ipv4_cidr_block="172.16.0.32/28"
        ),
        master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
            cidr_blocks=[], gcp_public_cidrs_access_enabled=False
        ),
        master_auth=gcp.container.ClusterMasterAuthArgs(
            client_certificate_config=gcp.container.ClusterMasterAuthClientCertificateConfigArgs(
                issue_client_certificate=False
            ),
        ),
        min_master_version=KUBERNETES_VERSION,
        release_channel=gcp.container.ClusterReleaseChannelArgs(channel="REGULAR"),
        workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
            workload_pool=f"{PROJECT}.svc.id.goog"
        ),
        database_encryption=gcp.container.ClusterDatabaseEncryptionArgs(state="ENCRYPTED", key_name=cluster_key.id),
        enable_shielded_nodes=True,
        datapath_provider="ADVANCED_DATAPATH",
        logging_config=gcp.container.ClusterLoggingConfigArgs(enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"]),
        monitoring_config=gcp.container.ClusterMonitoringConfigArgs(enable_components=["SYSTEM_COMPONENTS"]),
        # GKE creates a default pool it removes at once; it runs as the node account meanwhile.
        remove_default_node_pool=True,
        initial_node_count=1,
        node_config=gcp.container.ClusterNodeConfigArgs(
            service_account=node_account.email,
            oauth_scopes=[CLOUD_PLATFORM],
            workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
            shielded_instance_config=gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
                enable_secure_boot=True, enable_integrity_monitoring=True
            ),
            metadata={"disable-legacy-endpoints": "true"},
            resource_labels={},
        ),
        deletion_protection=True,
        resource_labels={},
        opts=pulumi.ResourceOptions(
            provider=provider,
            depends_on=[cluster_key_binding],
            ignore_changes=["nodeConfig", "initialNodeCount"],
        ),
    )
    for pool, machine_type, min_count, max_count in NODE_POOLS:
        gcp.container.NodePool(
            f"{ENV}-{pool}",
            name=pool,
            project=PROJECT,
            cluster=cluster.name,
            location=REGION,
            # Per zone, enough for the pool's total minimum from the start.
            initial_node_count=math.ceil(min_count / ZONE_COUNT),
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=min_count, total_max_node_count=max_count, location_policy="BALANCED"
            ),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=machine_type,
                disk_size_gb=100,
                service_account=node_account.email,
                oauth_scopes=[CLOUD_PLATFORM],
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
                shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                metadata={"disable-legacy-endpoints": "true"},
                resource_labels={},
            ),
            opts=pulumi.ResourceOptions(
                provider=provider,
                depends_on=node_roles,
                ignore_changes=["nodeCount", "initialNodeCount"],
                delete_before_replace=True,
            ),
        )
    workload_pool = cluster.workload_identity_config.apply(lambda config: config.workload_pool)
    ca_certificate = cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate)
    kubeconfig = pulumi.Output.secret(
        pulumi.Output.all(cluster.name, cluster.endpoint, ca_certificate).apply(lambda v: json.dumps(_kubeconfig(*v)))
    )

    # Secrets
    secrets_key_ring = gcp.kms.KeyRing(
        f"{ENV}-secrets-keyring", name=f"{ENV}-secrets-{INCARNATION}", location=REGION, project=PROJECT, opts=opts
    )
    secrets_key = gcp.kms.CryptoKey(
        f"{ENV}-secrets-key",
        name="secret-manager",
        key_ring=secrets_key_ring.id,
        rotation_period=KEY_ROTATION,
        labels={},
        opts=opts,
    )
    agent = gcp.projects.ServiceIdentity(
        f"{ENV}-agent", project=PROJECT, service="secretmanager.googleapis.com", opts=opts
    )
    secrets_key_binding = gcp.kms.CryptoKeyIAMMember(
        f"{ENV}-secrets-key-agent",
        crypto_key_id=secrets_key.id,
        role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member=agent.member,
        opts=opts,
    )
    secrets = {
        name: gcp.secretmanager.Secret(
            f"{ENV}-{name}",
            secret_id=f"{ENV}-{name}",
            project=PROJECT,
            replication=gcp.secretmanager.SecretReplicationArgs(
                user_managed=gcp.secretmanager.SecretReplicationUserManagedArgs(
                    replicas=[
                        gcp.secretmanager.SecretReplicationUserManagedReplicaArgs(
                            location=REGION,
                            customer_managed_encryption=gcp.secretmanager.SecretReplicationUserManagedReplicaCustomerManagedEncryptionArgs(
                                kms_key_name=secrets_key.id
                            ),
                        )
                    ]
                )
            ),
            deletion_protection=True,
            labels={},
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[secrets_key_binding]),
        )
        for name in SECRET_NAMES
    }
    for namespace in NAMESPACES:
        member = pulumi.Output.concat(
            "principal://iam.googleapis.com/projects/",
            project_number,
            "/locations/global/workloadIdentityPools/",
            workload_pool,
            f"/subject/ns/{namespace}/sa/{SECRETS_READER}",
        )
        for name, secret in secrets.items():
            gcp.secretmanager.SecretIamMember(
                f"{ENV}-{name}-{namespace}-{SECRETS_READER}",
                project=PROJECT,
                secret_id=secret.id,
                role="roles/secretmanager.secretAccessor",
                member=member,
                opts=opts,
            )

    # Kubernetes bootstrap
    k8s_provider = k8s.Provider(f"{ENV}-k8s", kubeconfig=kubeconfig, cluster_identifier=cluster.id)
    k8s_opts = pulumi.ResourceOptions(provider=k8s_provider)
    restricted = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    forced = {"pulumi.com/patchForce": "true"}
    namespace_names = []
    for namespace in NAMESPACES:
        created = k8s.core.v1.Namespace(
            f"{ENV}-{namespace}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=restricted, annotations=forced),
            opts=k8s_opts,
        )
        in_namespace = created.metadata.name
        namespace_names.append(in_namespace)
        k8s.networking.v1.NetworkPolicy(
            f"{ENV}-{namespace}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny", namespace=in_namespace, labels={}, annotations=forced),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress", "Egress"], ingress=[], egress=[]
            ),
            opts=k8s_opts,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{ENV}-{namespace}-allow-dns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="allow-dns", namespace=in_namespace, labels={}, annotations=forced),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Egress"],
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                    match_labels={"kubernetes.io/metadata.name": "kube-system"}
                                )
                            )
                        ],
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol=protocol, port=53)
                            for protocol in ("UDP", "TCP")
                        ],
                    )
                ],
            ),
            opts=k8s_opts,
        )
        # Workload identity federation grants the Kubernetes service account itself: no annotation.
        k8s.core.v1.ServiceAccount(
            f"{ENV}-{namespace}-{SECRETS_READER}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SECRETS_READER, namespace=in_namespace, annotations=forced, labels={}
            ),
            automount_service_account_token=False,
            opts=k8s_opts,
        )

    pulumi.export("region", REGION)
    pulumi.export("network_id", network.id)
    pulumi.export("subnet_id", subnet.id)
    pulumi.export("cluster_name", cluster.name)
    pulumi.export("cluster_endpoint", cluster.endpoint)
    pulumi.export("kubeconfig", kubeconfig)
    pulumi.export("secrets_key_id", secrets_key.id)
    pulumi.export("secret_ids", {name: secret.id for name, secret in secrets.items()})
    pulumi.export("namespaces", pulumi.Output.all(*namespace_names))


def _kubeconfig(cluster_name: str, endpoint: str, cluster_ca_certificate: str) -> dict[str, Any]:
    # Named as ``gcloud container clusters get-credentials`` names it.
    context = f"gke_{PROJECT}_{REGION}_{cluster_name}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": context,
                "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": cluster_ca_certificate},
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
        "users": [
            {
                "name": context,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "gke-gcloud-auth-plugin",
                        "installHint": (
                            "Install gke-gcloud-auth-plugin for use with kubectl by following "
                            "https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl"
                            "#install_plugin"
                        ),
                        "provideClusterInfo": True,
                    }
                },
            }
        ],
    }


if __name__ == "__main__":
    from _baseline import main

    main(program, stack=ENV, account_id=PROJECT, region=REGION)
