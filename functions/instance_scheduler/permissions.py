"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import DISPATCH, INSTANCE_STORE, REPORTS, TARGETS, Permissions

# INSTANCE_STORE: the instance types looked up before a stop (opskit/instance_store.py).
PERMISSIONS = REPORTS | TARGETS | DISPATCH | INSTANCE_STORE | Permissions(
    calls={
        "ec2": ("DescribeInstances", "DescribeVolumes", "DescribeSpotInstanceRequests",
                "StartInstances", "StopInstances", "CreateTags", "DeleteTags",
                "ModifyInstanceAttribute"),
        "autoscaling": ("DescribeAutoScalingGroups", "UpdateAutoScalingGroup",
                        "SuspendProcesses", "ResumeProcesses", "CreateOrUpdateTags",
                        "DeleteTags"),
        "rds": ("DescribeDBInstances", "DescribeDBClusters", "DescribeEvents", "StartDBInstance",
                "StopDBInstance", "StartDBCluster", "StopDBCluster", "AddTagsToResource",
                "RemoveTagsFromResource", "DescribeDBSnapshots", "DeleteDBSnapshot"),
        "kms": ("DescribeKey",),
        "redshift": ("DescribeClusters", "PauseCluster", "ResumeCluster", "CreateTags",
                     "DeleteTags"),
        "ecs": ("ListClusters", "ListServices", "DescribeServices", "UpdateService",
                "TagResource", "UntagResource"),
        "application-autoscaling": ("DescribeScalableTargets",),
    },
    # Starting an instance whose volumes use a customer-managed key: EC2 creates a grant.
    # A stop with RDS_SNAPSHOT_ON_STOP: StopDBInstance creates the snapshot.
    also={"ec2:StartInstances": ("kms:CreateGrant",),
          "rds:StopDBInstance": ("rds:CreateDBSnapshot",)},
)
