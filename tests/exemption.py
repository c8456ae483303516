"""The exemption in IAM: for each automation, the actions that act on resources (its declared
mutating actions) are denied on resources carrying the exemption tag, and no tag write may name
that tag. Rendered here, held in template.yaml (as a JSON document: the tag key is a parameter,
and a condition key cannot be built with !Sub in YAML), checked by tests/test_template.py."""

from __future__ import annotations

import json

from opskit.permissions import Permissions
from opskit.tags import TRUE_VALUES

# Actions on the stack's own plumbing, never on a managed resource.
PLUMBING = frozenset({"sns:Publish", "sqs:SendMessage", "sts:AssumeRole", "lambda:InvokeFunction",
                      "iam:PassRole", "iam:GenerateCredentialReport", "kms:CreateGrant",
                      "kms:GenerateDataKey", "kms:Decrypt", "secretsmanager:PutSecretValue",
                      "secretsmanager:UpdateSecretVersionStage", "secretsmanager:RotateSecret",
                      "rds:StartExportTask",
                      # The deployment guard's answers to the deployment or pipeline that asked.
                      "codedeploy:PutLifecycleEventHookExecutionStatus",
                      "codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"})
READS = ("Describe", "List", "Get")
TAG_WRITES = ("CreateTags", "DeleteTags", "AddTags", "RemoveTags", "TagResource",
              "UntagResource", "TagUser", "UntagUser", "TagRole", "TagQueue", "PutBucketTagging",
              "AddTagsToResource", "RemoveTagsFromResource", "CreateOrUpdateTags")


def is_tag_write(action: str) -> bool:
    """Whether an IAM action (service:Name) writes or removes tags."""
    return action.split(":")[1] in TAG_WRITES


def acting_actions(permissions: Permissions) -> list[str]:
    return sorted(a for a in permissions.actions()
                  if not a.split(":")[1].startswith(READS) and a not in PLUMBING)


def exemption_document(permissions: Permissions) -> dict[str, object]:
    acting = acting_actions(permissions)
    tag_writes = [a for a in acting if is_tag_write(a)]
    statements: list[dict[str, object]] = [{
        "Sid": "NeverActOnExemptResources", "Effect": "Deny", "Action": acting, "Resource": "*",
        "Condition": {"StringEqualsIgnoreCase": {
            "aws:ResourceTag/${ExemptionTagKey}": sorted(TRUE_VALUES)}}}]
    if tag_writes:
        statements.append({
            "Sid": "NeverWriteTheExemptionTag", "Effect": "Deny", "Action": tag_writes,
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEqualsIgnoreCase": {
                "aws:TagKeys": ["${ExemptionTagKey}"]}}})
    return {"Version": "2012-10-17", "Statement": statements}


def render(permissions: Permissions) -> str:
    return json.dumps(exemption_document(permissions), indent=1)
