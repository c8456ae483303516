"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import DISPATCH, REPORTS, TARGETS, Permissions

PERMISSIONS = REPORTS | TARGETS | DISPATCH | Permissions(
    calls={
        "s3": ("ListBuckets", "GetBucketLocation", "GetPublicAccessBlock", "GetBucketAcl",
               "GetBucketPolicy", "GetBucketTagging", "GetBucketOwnershipControls",
               "PutPublicAccessBlock", "PutBucketAcl", "PutBucketPolicy", "DeleteBucketPolicy"),
        "s3control": ("GetPublicAccessBlock",),
    },
)
