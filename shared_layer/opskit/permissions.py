"""The IAM actions behind AWS calls: each automation declares what its calls need, beside them.

An automation's `permissions.py` lists the operations it calls, by botocore service name and API
name, and what else those calls need (a KMS grant for an encrypted volume, PassRole for an
export). The tests check every declaration against the function's role in template.yaml and the
member role, every operation the code names against the declarations, and every call made in
the suite against them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# botocore service names whose IAM prefix differs.
_IAM_PREFIX = {"elbv2": "elasticloadbalancing", "resourcegroupstaggingapi": "tag",
               "s3control": "s3"}
# Operations whose IAM action is named otherwise (the Service Authorization Reference).
_IAM_ACTION = {
    ("s3", "ListBuckets"): ("s3:ListAllMyBuckets",),
    ("s3", "GetPublicAccessBlock"): ("s3:GetBucketPublicAccessBlock",),
    ("s3", "PutPublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    ("s3", "DeletePublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    ("s3", "GetBucketTagging"): ("s3:GetBucketTagging",),
    ("s3control", "GetPublicAccessBlock"): ("s3:GetAccountPublicAccessBlock",),
    ("s3control", "PutPublicAccessBlock"): ("s3:PutAccountPublicAccessBlock",),
    # SQS authorizes a batch as its single action.
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("sqs", "DeleteMessageBatch"): ("sqs:DeleteMessage",),
    ("sqs", "ChangeMessageVisibilityBatch"): ("sqs:ChangeMessageVisibility",),
    # GetCallerIdentity needs no permission: IAM cannot deny it.
    ("sts", "GetCallerIdentity"): (),
}


def iam_actions(service: str, operation: str) -> tuple[str, ...]:
    """The IAM action(s) an API call is authorized as, e.g. ("ec2", "StopInstances")."""
    named = _IAM_ACTION.get((service, operation))
    if named is not None:
        return named
    return (f"{_IAM_PREFIX.get(service, service)}:{operation}",)


@dataclass(frozen=True, slots=True)
class Permissions:
    """What an automation's calls need.

    `calls`: botocore service name -> API names the code calls.
    `also`: "service:Operation" -> further IAM actions that call needs (dependent actions).
    `home_only`: "service:Operation" never made in a member account (the stack's own resources).
    """

    calls: Mapping[str, Iterable[str]]
    also: Mapping[str, Iterable[str]] = field(default_factory=dict)
    home_only: frozenset[str] = frozenset()

    def operations(self) -> frozenset[tuple[str, str]]:
        return frozenset((service, op) for service, ops in self.calls.items() for op in ops)

    def actions_for(self, service: str, operation: str) -> tuple[str, ...]:
        return (*iam_actions(service, operation), *self.also.get(f"{service}:{operation}", ()))

    def actions(self, *, member: bool = False) -> frozenset[str]:
        """Every IAM action declared; with `member`, those needed in a member account."""
        return frozenset(action for service, op in self.operations()
                         if not (member and f"{service}:{op}" in self.home_only)
                         for action in self.actions_for(service, op))

    def __or__(self, other: Permissions) -> Permissions:
        calls: dict[str, set[str]] = {}
        for source in (self, other):
            for service, ops in source.calls.items():
                calls.setdefault(service, set()).update(ops)
        return Permissions(calls={k: tuple(sorted(v)) for k, v in calls.items()},
                           also={**self.also, **other.also},
                           home_only=self.home_only | other.home_only)


# The layer's own calls, which each automation declares as it uses them.
# Reports: the alert topic, encrypted with the stack's key.
REPORTS = Permissions(calls={"sns": ("Publish",)},
                      also={"sns:Publish": ("kms:GenerateDataKey", "kms:Decrypt")},
                      home_only=frozenset({"sns:Publish"}))
# Sessions: the home account's identity; another account through the member role.
SESSIONS = Permissions(calls={"sts": ("AssumeRole", "GetCallerIdentity")},
                       home_only=frozenset({"sts:AssumeRole"}))
# Targets: sessions, and the organization's accounts and the enabled regions to fan out over.
TARGETS = SESSIONS | Permissions(
    calls={"organizations": ("ListAccounts", "ListAccountsForParent",
                             "ListOrganizationalUnitsForParent"),
           "ec2": ("DescribeRegions",)},
    home_only=frozenset({"organizations:ListAccounts", "organizations:ListAccountsForParent",
                         "organizations:ListOrganizationalUnitsForParent",
                         "ec2:DescribeRegions"}))
# Dispatch mode: one message per target to the automation's work queue.
DISPATCH = Permissions(calls={"sqs": ("SendMessageBatch",)},
                       home_only=frozenset({"sqs:SendMessageBatch"}))
# Instance-store lookups before a stop (opskit/instance_store.py).
INSTANCE_STORE = Permissions(calls={"ec2": ("DescribeInstanceTypes",)})
LAYER = REPORTS | TARGETS | DISPATCH | INSTANCE_STORE
