"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import DISPATCH, REPORTS, TARGETS, Permissions

PERMISSIONS = REPORTS | TARGETS | DISPATCH | Permissions(
    calls={
        "ec2": ("DescribeTags", "CreateTags"),
        "elbv2": ("DescribeTags", "AddTags"),
        "rds": ("ListTagsForResource", "AddTagsToResource"),
        "s3": ("GetBucketTagging", "PutBucketTagging"),
        "iam": ("ListRoleTags", "ListUserTags", "TagRole", "TagUser"),
        "lambda": ("ListTags", "TagResource"),
        "dynamodb": ("ListTagsOfResource", "TagResource"),
        "sns": ("ListTagsForResource", "TagResource"),
        "sqs": ("ListQueueTags", "TagQueue"),
        "resourcegroupstaggingapi": ("GetResources",),
    },
)
