"""What the AWS components and the account bootstrap share about IAM, without loading the AWS SDK.

The bootstrap (``terrane.engine.accounts.aws_bootstrap``) lets terrane's provisioner role
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
