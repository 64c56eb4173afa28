"""Reading a deployed AWS bootstrap stack's outputs, so ``accounts link aws --bootstrap-stack`` can fill them in.

The stack is read with the caller's own AWS credentials (whoever deployed it,
or anyone allowed ``cloudformation:DescribeStacks``); its outputs hold ARNs
only, never a secret: the external id is deliberately not an output.
"""

from __future__ import annotations

from terrane.engine.errors import EngineError, InvalidInputError

# Outputs of the bootstrap template and the accounts.yaml fields they fill.
FIELDS = {"ProvisionerRoleArn": "auth.assume_role.role_arn", "PermissionsBoundaryArn": "permissions_boundary"}


def bootstrap_outputs(stack: str, region: str) -> dict[str, str]:
    """The outputs of CloudFormation stack ``stack`` in ``region``, by output key."""
    import boto3
    import botocore.exceptions

    try:
        response = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            raise InvalidInputError(
                f"--bootstrap-stack: there is no stack '{stack}' in {region} (or these credentials cannot see it)",
                hint="deploy the template of 'terrane accounts bootstrap aws' first, in the region given by --region",
            ) from None
        raise EngineError(f"--bootstrap-stack: cannot read stack '{stack}' in {region}: {exc}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise EngineError(f"--bootstrap-stack: cannot read stack '{stack}' in {region}: {exc}",
                          hint="sign in to AWS (e.g. AWS_PROFILE) as someone allowed cloudformation:DescribeStacks") from None
    outputs = {item["OutputKey"]: item["OutputValue"] for item in response["Stacks"][0].get("Outputs", [])}
    if "ProvisionerRoleArn" not in outputs:
        raise InvalidInputError(f"--bootstrap-stack: stack '{stack}' has no ProvisionerRoleArn output; "
                                "is it a terrane bootstrap stack?")
    return outputs
