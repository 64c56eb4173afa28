"""What the AWS components and the account bootstrap share about IAM, without loading the AWS SDK.

The bootstrap (``terrane.engine.clouds.aws.bootstrap``) lets terrane's provisioner role
manage only roles under ``IAM_PATH`` and attach only the managed policies named
here, so these names are part of that contract. This module imports nothing, so
the CLI can read them without paying for ``pulumi_aws``.
"""

from __future__ import annotations

IAM_PATH = "/terrane/"
"""The path of every IAM role the components create."""

CLUSTER_POLICY = "AmazonEKSClusterPolicy"
"""The AWS managed policy attached to an EKS cluster's role."""

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy")
"""The AWS managed policies attached to its nodes' role."""

NODE_REGISTRY_POLICY = "AmazonEC2ContainerRegistryReadOnly"
"""The nodes' ECR access when the environment names no registries: every repository (``Resource: *``).
An environment that names registries gets an inline policy scoped to them instead."""

ECR_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
"""What pulling an image from an ECR repository takes, besides ``ecr:GetAuthorizationToken``."""

# Where EKS's own add-on images (VPC CNI, kube-proxy, CoreDNS, pause) live, per region: nodes pull them
# with the node role. https://docs.aws.amazon.com/eks/latest/userguide/add-ons-images.html
EKS_ADDON_REGISTRY_ACCOUNTS = {
    "af-south-1": "877085696533",
    "ap-east-1": "800184023465",
    "ap-east-2": "533267051163",
    "ap-south-2": "900889452093",
    "ap-southeast-3": "296578399912",
    "ap-southeast-4": "491585149902",
    "ap-southeast-5": "151610086707",
    "ap-southeast-6": "333609536671",
    "ap-southeast-7": "121268973566",
    "ca-west-1": "761377655185",
    "cn-north-1": "918309763551",
    "cn-northwest-1": "961992271922",
    "eu-central-2": "900612956339",
    "eu-south-1": "590381155156",
    "eu-south-2": "455263428931",
    "il-central-1": "066635153087",
    "me-central-1": "759879836304",
    "me-south-1": "558608220178",
    "us-gov-east-1": "151742754352",
    "us-gov-west-1": "013241004608",
}
EKS_ADDON_REGISTRY_DEFAULT = "602401143452"
"""The add-on registry account of every region the table does not name."""
