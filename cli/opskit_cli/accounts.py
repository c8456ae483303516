"""Which AWS account and region a command runs against: a profile's, or the shell's."""

from __future__ import annotations

import os

import boto3
import botocore.exceptions

from opskit.config import is_region
from opskit_cli.errors import UsageError

# What botocore raises when a profile's credentials are missing, expired or cannot be fetched.
CREDENTIAL_ERRORS = (botocore.exceptions.NoCredentialsError,
                     botocore.exceptions.PartialCredentialsError,
                     botocore.exceptions.TokenRetrievalError,
                     botocore.exceptions.UnauthorizedSSOTokenError,
                     botocore.exceptions.CredentialRetrievalError,
                     botocore.exceptions.SSOTokenLoadError)


def home_region(profile: str | None, regions: list[str] | None) -> str:
    """The first of `regions`, else the profile's (or the shell's) region."""
    for region in regions or ():
        if not is_region(region):
            raise UsageError("--region", f"{region!r} is not a region name such as eu-west-1")
    if regions:
        return regions[0]
    if profile is None and (found := os.environ.get("AWS_REGION")):
        return found
    try:
        configured = boto3.Session(profile_name=profile).region_name
    except botocore.exceptions.ProfileNotFound:
        raise UsageError("--profile", f"no profile named {profile!r} in your AWS "
                         "configuration") from None
    if not configured:
        where = f"profile {profile!r}" if profile else "your shell"
        raise UsageError("--region", f"{where} configures no region: pass --region")
    return configured
