"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import REPORTS, Permissions

PERMISSIONS = REPORTS | Permissions(
    calls={
        "iam": ("ListAccessKeys", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey",
                "ListUserTags", "TagUser", "UntagUser"),
        "secretsmanager": ("DescribeSecret", "GetSecretValue", "PutSecretValue",
                           "UpdateSecretVersionStage", "ListSecrets"),
        # The home account's id; the rotation never leaves it (no AssumeRole).
        "sts": ("GetCallerIdentity",),
    },
)
