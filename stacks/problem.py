"""What a rule of ``stacks.rules`` finds wrong with an environment, and how its message names a cloud."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from terrane.stacks.spec import Cloud


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


CLOUD_NAMES: Mapping[Cloud, str] = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}
KUBERNETES_SERVICES: Mapping[Cloud, str] = {"aws": "EKS", "azure": "AKS", "gcp": "GKE"}
"""Each cloud's Kubernetes service, as messages about a cluster name it."""
