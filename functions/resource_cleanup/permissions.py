"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import DISPATCH, REPORTS, TARGETS, Permissions

PERMISSIONS = REPORTS | TARGETS | DISPATCH | Permissions(
    calls={
        "ec2": ("DescribeVolumes", "DescribeAddresses", "DescribeSnapshots", "DescribeImages",
                "DescribeInstances", "DescribeNetworkInterfaces", "DescribeLaunchTemplates",
                "DescribeLaunchTemplateVersions", "CreateTags", "DeleteTags", "CreateSnapshot",
                "DeleteVolume", "ReleaseAddress", "DeleteSnapshot", "DeregisterImage",
                "DeleteNetworkInterface"),
        "elbv2": ("DescribeLoadBalancers", "DescribeTargetGroups", "DescribeTargetHealth",
                  "DescribeTags", "AddTags", "RemoveTags", "DeleteLoadBalancer"),
        "logs": ("DescribeLogGroups", "ListTagsForResource", "TagResource", "UntagResource",
                 "PutRetentionPolicy"),
        # What uses a snapshot, an AMI or a balancer's target groups.
        "autoscaling": ("DescribeAutoScalingGroups", "DescribeLaunchConfigurations"),
        # Whether an Elastic IP was associated since it was marked (the re-read).
        "cloudtrail": ("LookupEvents",),
    },
)
