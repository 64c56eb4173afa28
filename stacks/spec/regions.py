"""Each cloud's regions: the names an account, a registry, a secret reference or an environment may give.

The tables were taken on 2026-12-08 (``TAKEN``), each from the source named above it. A region a cloud opens
later is refused until its name is added here; docs/environments.md says so, and how to add one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from terrane.stacks.spec import did_you_mean

TAKEN = date(2026, 12, 8)

# AWS: every partition's regions in the AWS SDK's own table, botocore/data/partitions.json (botocore 1.44.18),
# without the "aws-global" pseudo-regions; https://docs.aws.amazon.com/global-infrastructure/latest/regions/
# aws-regions.html lists the commercial ones. pulumi_aws.Region names a subset (tests/stacks/test_regions.py).
AWS_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "mx-central-1",
    "sa-east-1", "sa-west-1",
    "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "af-south-1", "il-central-1", "me-central-1", "me-south-1", "me-west-1",
    "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
    "ap-southeast-7",
    # aws-cn, aws-us-gov, aws-eusc (the European Sovereign Cloud), aws-iso, aws-iso-b, aws-iso-e and aws-iso-f
    "cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1", "eusc-de-east-1",
    "us-iso-east-1", "us-iso-west-1", "us-isob-east-1", "us-isob-west-1", "eu-isoe-west-1",
    "us-isof-east-1", "us-isof-south-1",
})

# Azure: the programmatic names of https://learn.microsoft.com/azure/reliability/regions-list (the public cloud,
# restricted regions included), of Azure Government (https://learn.microsoft.com/azure/azure-government/
# documentation-government-get-started-connect-with-cli) and of Azure operated by 21Vianet
# (https://learn.microsoft.com/azure/china/resources-developer-guide). azure-native has no list of its own.
AZURE_LOCATIONS = frozenset({
    "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus", "westus", "westus2",
    "westus3", "canadacentral", "canadaeast", "mexicocentral", "brazilsouth", "brazilsoutheast", "chilecentral",
    "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "francesouth", "germanywestcentral",
    "germanynorth", "switzerlandnorth", "switzerlandwest", "norwayeast", "norwaywest", "swedencentral",
    "swedensouth", "polandcentral", "italynorth", "spaincentral", "austriaeast", "belgiumcentral", "denmarkeast",
    "uaenorth", "uaecentral", "qatarcentral", "israelcentral", "israelnorthwest", "southafricanorth",
    "southafricawest",
    "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "koreasouth", "centralindia",
    "southindia", "westindia", "jioindiacentral", "jioindiawest", "indonesiacentral", "malaysiawest",
    "malaysiasouth", "taiwannorth", "taiwannorthwest", "australiaeast", "australiasoutheast", "australiacentral",
    "australiacentral2", "newzealandnorth",
    "usgovvirginia", "usgovarizona", "usgovtexas", "usdodcentral", "usdodeast",
    "chinaeast", "chinaeast2", "chinaeast3", "chinanorth", "chinanorth2", "chinanorth3",
})

# GCP: https://cloud.google.com/compute/docs/regions-zones (pulumi_gcp has no list of regions).
GCP_REGIONS = frozenset({
    "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2", "us-west3", "us-west4",
    "northamerica-northeast1", "northamerica-northeast2", "northamerica-south1", "southamerica-east1",
    "southamerica-west1",
    "europe-central2", "europe-north1", "europe-north2", "europe-southwest1", "europe-west1", "europe-west2",
    "europe-west3", "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west10", "europe-west12",
    "me-central1", "me-central2", "me-west1", "africa-south1",
    "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3", "asia-south1", "asia-south2",
    "asia-southeast1", "asia-southeast2", "asia-southeast3", "australia-southeast1", "australia-southeast2",
})

# Artifact Registry also keeps repositories in a multi-region:
# https://cloud.google.com/artifact-registry/docs/repositories/repo-locations
ARTIFACT_REGISTRY_LOCATIONS = GCP_REGIONS | {"us", "europe", "asia"}

Where = Literal["aws", "azure", "gcp", "artifact-registry"]

REGIONS: Mapping[Where, frozenset[str]] = {
    "aws": AWS_REGIONS, "azure": AZURE_LOCATIONS, "gcp": GCP_REGIONS, "artifact-registry": ARTIFACT_REGISTRY_LOCATIONS,
}
_WHAT: Mapping[Where, str] = {
    "aws": "an AWS region", "azure": "an Azure location", "gcp": "a GCP region",
    "artifact-registry": "an Artifact Registry location",
}
_EXAMPLE: Mapping[Where, str] = {
    "aws": "us-east-1", "azure": "westeurope", "gcp": "europe-west1", "artifact-registry": "europe-west1 or europe",
}
_CLOUDS: tuple[Where, ...] = ("aws", "azure", "gcp")
_PLAIN = re.compile(r"[A-Za-z0-9 _-]{1,40}")
"""What a message may repeat: a value a region could be mistyped as, and never more than a line's worth."""


def region_problem(where: Where, value: str) -> str | None:
    """What is wrong with ``value`` as a region of ``where``, in one line naming the closest ones; None when nothing
    is."""
    known = REGIONS[where]
    if value in known:
        return None
    if not _PLAIN.fullmatch(value):
        return f"must be {_WHAT[where]} (like {_EXAMPLE[where]})"
    elsewhere = next((other for other in _CLOUDS if other != where and value in REGIONS[other]), None)
    if elsewhere:
        return f"'{value}' is {_WHAT[elsewhere]}, not {_WHAT[where]} (like {_EXAMPLE[where]})"
    folded = value.strip().lower().replace(" ", "").replace("_", "-")  # West Europe, US_EAST_1
    hint = f"did you mean {folded}?" if folded in known else did_you_mean(folded, known)
    return (f"'{value}' is not {_WHAT[where]}: {hint}" if hint else
            f"'{value}' is not {_WHAT[where]} (like {_EXAMPLE[where]}; terrane knows those of {TAKEN.isoformat()})")


def one_of_regions(where: Where) -> AfterValidator:
    """A string rule: the value is one of ``where``'s regions."""
    known = REGIONS[where]

    def check(value: str) -> str:
        if value in known:
            return value
        raise PydanticCustomError("region", "{problem}", {"problem": region_problem(where, value)})

    return AfterValidator(check)


AwsRegion = Annotated[str, one_of_regions("aws")]
AzureLocation = Annotated[str, one_of_regions("azure")]
GcpRegion = Annotated[str, one_of_regions("gcp")]
ArtifactRegistryLocation = Annotated[str, one_of_regions("artifact-registry")]
