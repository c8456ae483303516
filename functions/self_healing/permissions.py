"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import INSTANCE_STORE, REPORTS, SESSIONS, Permissions

PERMISSIONS = REPORTS | SESSIONS | INSTANCE_STORE | Permissions(
    calls={
        # StopInstances with Force is the same action.
        "ec2": ("DescribeInstances", "RebootInstances", "StopInstances", "StartInstances",
                "CreateTags"),
        "autoscaling": ("DescribeAutoScalingInstances", "DescribeAutoScalingGroups",
                        "SetInstanceHealth"),
        "ecs": ("DescribeServices", "UpdateService", "TagResource"),
        "cloudwatch": ("DescribeAlarmHistory", "ListTagsForResource"),
        "resourcegroupstaggingapi": ("GetResources",),
    },
    # A stop/start of an instance whose volumes use a customer-managed key: EC2 creates a grant.
    also={"ec2:StartInstances": ("kms:CreateGrant",)},
)
