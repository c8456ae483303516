"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import DISPATCH, REPORTS, TARGETS, Permissions

PERMISSIONS = REPORTS | TARGETS | DISPATCH | Permissions(
    calls={
        "rds": ("DescribeDBInstances", "DescribeDBClusters", "DescribeDBSnapshots",
                "DescribeDBClusterSnapshots", "DescribeExportTasks", "DescribeAccountAttributes",
                "CreateDBSnapshot", "CreateDBClusterSnapshot", "CopyDBSnapshot",
                "CopyDBClusterSnapshot", "DeleteDBSnapshot", "DeleteDBClusterSnapshot",
                "AddTagsToResource", "StartExportTask"),
    },
    # An export writes to the stack's bucket as the stack's export role, with its key.
    also={"rds:StartExportTask": ("iam:PassRole", "kms:CreateGrant", "kms:DescribeKey"),
          # A copy of an encrypted snapshot (to the DR region too) uses the keys through RDS.
          "rds:CopyDBSnapshot": ("kms:CreateGrant", "kms:DescribeKey"),
          "rds:CopyDBClusterSnapshot": ("kms:CreateGrant", "kms:DescribeKey")},
    home_only=frozenset({"rds:StartExportTask", "rds:DescribeExportTasks"}),
)
