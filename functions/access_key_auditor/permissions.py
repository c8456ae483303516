"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import DISPATCH, REPORTS, TARGETS, Permissions

PERMISSIONS = REPORTS | TARGETS | DISPATCH | Permissions(
    calls={
        "iam": ("GenerateCredentialReport", "GetCredentialReport", "ListAccessKeys",
                "GetAccessKeyLastUsed", "ListUserTags", "TagUser", "UntagUser",
                "UpdateAccessKey", "DeleteAccessKey"),
        "kms": ("ListKeys", "DescribeKey", "GetKeyRotationStatus", "ListResourceTags",
                "EnableKeyRotation"),
        "secretsmanager": ("ListSecrets", "RotateSecret"),
    },
    # Secrets Manager invokes the secret's rotation function as the caller.
    also={"secretsmanager:RotateSecret": ("lambda:InvokeFunction",)},
)
