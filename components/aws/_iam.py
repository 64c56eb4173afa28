"""What every IAM role of the AWS components shares."""

from __future__ import annotations

IAM_PATH = "/terrane/"
"""The path of every IAM role the components create.

The account bootstrap (``engine.aws_bootstrap``) lets terrane's provisioner role
manage only roles under this path, so the path is part of that contract.
"""
