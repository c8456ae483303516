"""The IAM writes: each remediation, the re-read that precedes it, and the undo of a report."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from iam_policy_guard.documents import load_document
from iam_policy_guard.inventory import IamReader
from iam_policy_guard.planner import (
    Change,
    DeleteInline,
    Detach,
    Quarantine,
    RevertVersion,
    StripTrust,
)
from opskit.actions import Action

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

# "Already in that state" answers: the policy is already detached or deleted. Only for those:
# NoSuchEntity from an attach (quarantine), a revert or a trust update means nothing was done.
IDEMPOTENT = ("NoSuchEntity",)


def idempotent_errors(change: Change) -> tuple[str, ...]:
    """The error codes that mean `change` is already in effect."""
    return IDEMPOTENT if isinstance(change, Detach | DeleteInline) else ()


def _json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def apply(iam: IAMClient, change: Change, _batch: Sequence[Action]) -> None:
    match change:
        case RevertVersion():
            iam.set_default_policy_version(PolicyArn=change.policy_arn,
                                           VersionId=change.previous_version)
        case Detach(kind="user"):
            iam.detach_user_policy(UserName=change.name, PolicyArn=change.policy_arn)
        case Detach(kind="role"):
            iam.detach_role_policy(RoleName=change.name, PolicyArn=change.policy_arn)
        case Detach():
            iam.detach_group_policy(GroupName=change.name, PolicyArn=change.policy_arn)
        case DeleteInline(kind="user"):
            iam.delete_user_policy(UserName=change.name, PolicyName=change.policy_name)
        case DeleteInline(kind="role"):
            iam.delete_role_policy(RoleName=change.name, PolicyName=change.policy_name)
        case DeleteInline():
            iam.delete_group_policy(GroupName=change.name, PolicyName=change.policy_name)
        case StripTrust():
            iam.update_assume_role_policy(RoleName=change.role_name,
                                          PolicyDocument=_json(change.after))
        case Quarantine(kind="user"):
            iam.attach_user_policy(UserName=change.name, PolicyArn=change.policy_arn)
        case Quarantine():
            iam.attach_role_policy(RoleName=change.name, PolicyArn=change.policy_arn)


def changed_since_read(reader: IamReader, change: Change) -> str | None:
    """Read again just before the write: why the state differs from what was analysed (the
    write would act on something nobody checked), else None."""
    match change:
        case RevertVersion():
            current = reader.default_version(change.policy_arn)
            if current != change.bad_version:
                return (f"default version is now {current}, not {change.bad_version}")
            if change.previous_version not in {v.id for v in reader.versions(change.policy_arn)}:
                return f"version {change.previous_version} no longer exists"
        case Detach():
            if change.policy_arn not in reader.attached(change.kind, change.name):
                return f"{change.policy_arn} is no longer attached"
        case DeleteInline():
            document = reader.inline_policy(change.kind, change.name, change.policy_name)
            if document is None:
                return f"inline policy {change.policy_name} no longer exists"
            if load_document(document) != dict(change.document):
                return f"inline policy {change.policy_name} was rewritten"
        case StripTrust():
            trust = reader.trust_policy(change.role_name)
            if trust is None or load_document(trust) != dict(change.before):
                return "the trust policy was rewritten"
        case Quarantine():
            if reader.principal(change.kind, change.name) is None:
                return f"{change.kind} {change.name} no longer exists"
    return None
