"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import REPORTS, Permissions

# All in the function's own account and region. OpenSearch's bulk requests are not AWS API
# calls: the role's es:ESHttpPost statement (template.yaml) grants them.
PERMISSIONS = REPORTS | Permissions(
    calls={
        # Shipping: objects written with SSE-KMS under the bucket's key; refused records kept.
        "s3": ("PutObject",),
        "sqs": ("SendMessageBatch",),
        # The reconciliation of subscription filters.
        "logs": ("DescribeLogGroups", "ListTagsForResource", "DescribeSubscriptionFilters",
                 "PutSubscriptionFilter", "DeleteSubscriptionFilter"),
        # The home account's identity (no IAM permission needed).
        "sts": ("GetCallerIdentity",),
    },
    also={"s3:PutObject": ("kms:GenerateDataKey",)},
    home_only=frozenset({"s3:PutObject", "sqs:SendMessageBatch", "logs:DescribeLogGroups",
                         "logs:ListTagsForResource", "logs:DescribeSubscriptionFilters",
                         "logs:PutSubscriptionFilter", "logs:DeleteSubscriptionFilter"}),
)
