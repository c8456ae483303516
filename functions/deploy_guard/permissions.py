"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import REPORTS, Permissions

# All in the function's own account: the hooks and jobs it answers are the stack's account's.
PERMISSIONS = REPORTS | Permissions(
    calls={
        # GetDeployment: which application and group a hook belongs to (its checks' parameter).
        "codedeploy": ("GetDeployment", "PutLifecycleEventHookExecutionStatus"),
        # GetJobDetails: a continuation token must be the one the job holds.
        "codepipeline": ("GetJobDetails", "PutJobSuccessResult", "PutJobFailureResult"),
        "cloudwatch": ("DescribeAlarms", "GetMetricData"),
        "ssm": ("GetParameter",),
        # The home account's identity (no IAM permission needed); no other account is assumed.
        "sts": ("GetCallerIdentity",),
    },
    home_only=frozenset({"codedeploy:GetDeployment",
                         "codedeploy:PutLifecycleEventHookExecutionStatus",
                         "codepipeline:GetJobDetails", "codepipeline:PutJobSuccessResult",
                         "codepipeline:PutJobFailureResult",
                         "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData",
                         "ssm:GetParameter"}),
)
