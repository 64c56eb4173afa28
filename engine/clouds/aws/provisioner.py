"""The identity terrane deploys an AWS account's environments as, for ``terrane audit``: named by the account's
sign-in method and, when it is the bootstrap's provisioner role, granted the bootstrap's own policy."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

from terrane.engine.clouds.aws import config
from terrane.engine.clouds.aws.bootstrap import ROLE_NAMES, new_external_id, template
from terrane.engine.clouds.base import Provisioner, by_sign_in
from terrane.stacks.spec.accounts import AwsAccount


def provisioner(account: AwsAccount) -> Provisioner:
    signed = by_sign_in(account, config.SIGN_IN, config.GRANTS)
    assumed = account.auth.assume_role
    if assumed is None:
        return signed
    limits = signed.limits
    if assumed.external_id is not None:
        limits += ("assumed only with the account's external id (sts:ExternalId)",)
    bootstrapped = assumed.role_arn.rsplit("/", 1)[-1] == ROLE_NAMES["provisioner"]
    return replace(signed, limits=limits, policy=_bootstrap_policy(account.account_id) if bootstrapped else None)


@cache
def _bootstrap_policy(account_id: str) -> Mapping[str, Any]:
    """The policy ``terrane accounts bootstrap aws`` gives its provisioner role, for ``account_id``."""
    resources = template(account_id, new_external_id())["Resources"]
    document = resources["ProvisionerPolicy"]["Properties"]["PolicyDocument"]
    text = json.dumps(document)
    for variable, value in (("${AWS::Partition}", "aws"), ("${AWS::AccountId}", account_id)):
        text = text.replace(variable, value)
    policy: Mapping[str, Any] = _without_sub(json.loads(text))
    return policy


def _without_sub(value: Any) -> Any:
    """A CloudFormation value with each ``{"Fn::Sub": text}`` as its text."""
    if isinstance(value, dict):
        return value["Fn::Sub"] if set(value) == {"Fn::Sub"} else {k: _without_sub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_sub(item) for item in value]
    return value
