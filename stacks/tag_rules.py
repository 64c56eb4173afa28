"""The rules on an environment's tags (labels on GCP): what each cloud accepts, beside what terrane adds itself.

Part of ``stacks.rules``, which runs them with the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from terrane.stacks.problem import CLOUD_NAMES, Problem
from terrane.stacks.spec import Cloud
from terrane.stacks.spec.environments import Environment
from terrane.stacks.standard import standard_labels, standard_tags

# Tags (labels on GCP): how many one resource may carry, and how long a key and a value may be.
_TAGS_PER_RESOURCE = {"aws": 50, "azure": 50, "gcp": 64}
_AWS_TAG_KEY_LENGTH, _AWS_TAG_VALUE_LENGTH = 128, 256
_AZURE_TAG_NAME_LENGTH, _AZURE_TAG_VALUE_LENGTH = 512, 256
_AZURE_STORAGE_TAG_NAME_LENGTH = 128  # the flow logs' storage account allows shorter names
_GCP_LABEL_LENGTH = 63
# AWS: letters and digits of any script, spaces, and + - = . _ : / @ (in keys and values).
_AWS_TAG_TEXT = re.compile(r"[\w\s+\-=.:/@]*")
_AZURE_TAG_NAME_FORBIDDEN = re.compile(r"[<>%&\\?/]")
# On AWS, tags the components add to one resource on top of the provider's default tags: Name, the
# subnets' load-balancer role and, with a cluster, their kubernetes.io/cluster tag (components/aws/network.py).
_AWS_RESOURCE_TAGS = 2
_AWS_CLUSTER_RESOURCE_TAGS = 1


def tag_count(env: Environment, cloud: Cloud) -> list[Problem]:
    """How many tags each cloud accepts on a resource: the spec's own and terrane's, which every resource carries."""
    standard = standard_labels if cloud == "gcp" else standard_tags
    own = standard(env.model_copy(update={"tags": {}}))
    problems = [Problem(f"tags.{key}", "terrane sets this tag itself") for key in env.tags if key in own]
    per_resource = 0
    if cloud == "aws":
        per_resource = _AWS_RESOURCE_TAGS + (_AWS_CLUSTER_RESOURCE_TAGS if env.cluster else 0)
    added = len(own) + per_resource
    limit = _TAGS_PER_RESOURCE[cloud]
    if len(standard(env)) + per_resource > limit:
        what = "labels" if cloud == "gcp" else "tags"
        problems.append(Problem(
            "tags",
            f"{CLOUD_NAMES[cloud]} allows {limit} {what} on a resource and terrane adds up to {added} of its own: "
            f"at most {limit - added} here, not {len(env.tags)}",
        ))
    return problems


def tag_text(env: Environment, cloud: Cloud) -> list[Problem]:
    return _TAG_TEXT_RULES[cloud](env)


def _aws_tag_text(env: Environment) -> list[Problem]:
    problems = []
    for key, value in env.tags.items():
        path = f"tags.{key}"
        if not 1 <= len(key) <= _AWS_TAG_KEY_LENGTH:
            problems.append(Problem(path, f"an AWS tag key has 1 to {_AWS_TAG_KEY_LENGTH} characters"))
        elif key.lower().startswith("aws:"):
            problems.append(Problem(path, "the aws: prefix is reserved for AWS's own tags"))
        elif not _AWS_TAG_TEXT.fullmatch(key):
            problems.append(Problem(path, "an AWS tag key may contain only letters, digits, spaces and + - = . _ : / @"))
        if len(value) > _AWS_TAG_VALUE_LENGTH:
            problems.append(Problem(path, f"an AWS tag value has at most {_AWS_TAG_VALUE_LENGTH} characters"))
        elif not _AWS_TAG_TEXT.fullmatch(value):
            problems.append(Problem(path, "an AWS tag value may contain only letters, digits, spaces and + - = . _ : / @"))
    return problems


def _azure_tag_text(env: Environment) -> list[Problem]:
    problems = []
    seen: dict[str, str] = {}
    for key, value in env.tags.items():
        path = f"tags.{key}"
        if not 1 <= len(key) <= _AZURE_TAG_NAME_LENGTH:
            problems.append(Problem(path, f"an Azure tag name has 1 to {_AZURE_TAG_NAME_LENGTH} characters"))
        if _AZURE_TAG_NAME_FORBIDDEN.search(key):
            problems.append(Problem(path, "Azure tag names cannot contain < > % & \\ ? /"))
        if key.lower() in seen:
            problems.append(Problem(path, f"Azure tag names ignore case: this is the same tag as '{seen[key.lower()]}'"))
        seen.setdefault(key.lower(), key)
        if len(value) > _AZURE_TAG_VALUE_LENGTH:
            problems.append(Problem(path, f"an Azure tag value has at most {_AZURE_TAG_VALUE_LENGTH} characters"))
    return problems


def azure_storage_tag_names(env: Environment, cloud: Cloud) -> list[Problem]:
    """The flow logs' storage account carries the tags too, and takes shorter names."""
    network = env.new_network
    if cloud != "azure" or network is None or not network.flow_logs:
        return []
    return [
        Problem(f"tags.{key}", f"an Azure tag name has 1 to {_AZURE_STORAGE_TAG_NAME_LENGTH} characters "
                               "(with flow_logs, the limit of the storage account that keeps them)")
        for key in env.tags
        if _AZURE_STORAGE_TAG_NAME_LENGTH < len(key) <= _AZURE_TAG_NAME_LENGTH
    ]


def _gcp_tag_text(env: Environment) -> list[Problem]:
    problems = []
    for key, value in env.tags.items():
        path = f"tags.{key}"
        if not (key and _lowercase_letter(key[0]) and len(key) <= _GCP_LABEL_LENGTH and _gcp_label_text(key)):
            problems.append(Problem(
                path,
                "a GCP label key must start with a lowercase letter and contain only lowercase letters, digits, "
                f"'_' and '-', at most {_GCP_LABEL_LENGTH} characters",
            ))
        if not (len(value) <= _GCP_LABEL_LENGTH and _gcp_label_text(value)):
            problems.append(Problem(
                path,
                "a GCP label value may contain only lowercase letters, digits, '_' and '-', "
                f"at most {_GCP_LABEL_LENGTH} characters",
            ))
    return problems


def _lowercase_letter(character: str) -> bool:
    """A lowercase letter, or a letter of a script without case (GCP allows international characters)."""
    return character.isalpha() and not character.isupper()


def _gcp_label_text(text: str) -> bool:
    return all(_lowercase_letter(character) or character.isdigit() or character in "_-" for character in text)


_TAG_TEXT_RULES: Mapping[Cloud, Callable[[Environment], list[Problem]]] = {
    "aws": _aws_tag_text,
    "azure": _azure_tag_text,
    "gcp": _gcp_tag_text,
}
