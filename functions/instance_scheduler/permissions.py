"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import DISPATCH, REPORTS, TARGETS, Permissions

PERMISSIONS = REPORTS | TARGETS | DISPATCH | Permissions(
    calls={
        "ec2": ("DescribeInstances", "DescribeVolumes", "StartInstances", "StopInstances",
                "DeleteTags"),
        "autoscaling": ("DescribeAutoScalingGroups", "UpdateAutoScalingGroup",
                        "CreateOrUpdateTags", "DeleteTags"),
        "rds": ("DescribeDBInstances", "DescribeDBClusters", "DescribeEvents", "StartDBInstance",
                "StopDBInstance", "StartDBCluster", "StopDBCluster", "RemoveTagsFromResource"),
        "kms": ("DescribeKey",),
    },
    # Starting an instance whose volumes use a customer-managed key: EC2 creates a grant.
    also={"ec2:StartInstances": ("kms:CreateGrant",)},
)
