"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import DISPATCH, REPORTS, TARGETS, Permissions

PERMISSIONS = REPORTS | TARGETS | DISPATCH | Permissions(
    calls={"ec2": ("DescribeSecurityGroups", "DescribeSecurityGroupRules",
                   "RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress")},
)
