"""The IAM calls the guard reacts to, read from their CloudTrail records (strictly)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iam_policy_guard.planner import Kind
from iam_policy_guard.settings import IAM_REGION
from opskit.cloudtrail import ApiCall
from opskit.events import EventError, is_identifier

BOUNDARY_CALLS = frozenset({"DeleteUserPermissionsBoundary", "DeleteRolePermissionsBoundary",
                            "PutUserPermissionsBoundary", "PutRolePermissionsBoundary"})
POLICY_TAG_CALLS = frozenset({"TagPolicy", "UntagPolicy"})
TAG_CALLS = frozenset({"TagUser", "TagRole", "UntagUser", "UntagRole", *POLICY_TAG_CALLS})
CALLS = frozenset({
    "CreatePolicy", "CreatePolicyVersion", "SetDefaultPolicyVersion",
    "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy",
    "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy",
    "UpdateAssumeRolePolicy", "CreateRole", "CreateUser", "AddUserToGroup", "CreateAccessKey",
    # A boundary lifted or replaced: what the principal holds is no longer bounded.
    *BOUNDARY_CALLS,
    # The guard's own tags (exemption, mode) written or removed on a principal or a policy.
    *TAG_CALLS,
})
_KIND: dict[str, Kind] = {"User": "user", "Role": "role", "Group": "group"}


@dataclass(frozen=True, slots=True)
class IamChange:
    """What one call changed. `kind`/`name` the principal, `policy_*` the policy."""

    event_name: str
    kind: Kind | None = None
    name: str | None = None
    policy_arn: str | None = None
    policy_name: str | None = None
    user_name: str | None = None  # AddUserToGroup's user
    access_key_id: str | None = None
    by_root: bool = False
    tag_keys: tuple[str, ...] = ()  # the keys a Tag*/Untag* call writes or removes


def _field(call: ApiCall, key: str, expected: str) -> str:
    value = call.request.get(key)
    if not is_identifier(value):
        raise EventError(f"detail.requestParameters.{key}", value, expected)
    return str(value)


def _created_policy_arn(call: ApiCall) -> str:
    policy: Any = (call.response or {}).get("policy")
    arn = policy.get("arn") if isinstance(policy, dict) else None
    if not is_identifier(arn):
        raise EventError("detail.responseElements.policy.arn", arn, "the new policy's ARN")
    return str(arn)


def _tag_keys(call: ApiCall) -> tuple[str, ...]:
    if call.event_name.startswith("Untag"):
        keys: Any = call.request.get("tagKeys")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise EventError("detail.requestParameters.tagKeys", keys, "a list of tag keys")
        return tuple(keys)
    tags: Any = call.request.get("tags")
    if not isinstance(tags, list) or not all(
            isinstance(t, dict) and isinstance(t.get("key"), str) for t in tags):
        raise EventError("detail.requestParameters.tags", tags, "a list of {key, value}")
    return tuple(t["key"] for t in tags)


def iam_change(call: ApiCall) -> IamChange:
    """Raises EventError naming the field when the record is not an IAM call the guard reads."""
    if call.event_source != "iam.amazonaws.com":
        raise EventError("detail.eventSource", call.event_source, "iam.amazonaws.com")
    if call.region != IAM_REGION:
        raise EventError("detail.awsRegion", call.region,
                         f"{IAM_REGION} (IAM is global: its events are recorded there)")
    name = call.event_name
    if name not in CALLS:
        raise EventError("detail.eventName", name, "one of " + ", ".join(sorted(CALLS)))
    match name:
        case "CreatePolicy":
            return IamChange(name, policy_arn=_created_policy_arn(call))
        case "CreatePolicyVersion" | "SetDefaultPolicyVersion":
            return IamChange(name, policy_arn=_field(call, "policyArn", "a policy ARN"))
        case "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy":
            kind = _KIND[name[3:-6]]
            return IamChange(name, kind, _field(call, f"{kind}Name", f"a {kind} name"),
                             policy_name=_field(call, "policyName", "a policy name"))
        case "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy":
            kind = _KIND[name[6:-6]]
            return IamChange(name, kind, _field(call, f"{kind}Name", f"a {kind} name"),
                             policy_arn=_field(call, "policyArn", "a policy ARN"))
        case "UpdateAssumeRolePolicy" | "CreateRole":
            return IamChange(name, "role", _field(call, "roleName", "a role name"))
        case "CreateUser":
            return IamChange(name, "user", _field(call, "userName", "a user name"))
        case name if name in POLICY_TAG_CALLS:
            return IamChange(name, policy_arn=_field(call, "policyArn", "a policy ARN"),
                             tag_keys=_tag_keys(call))
        case name if name in BOUNDARY_CALLS | TAG_CALLS:
            kind = "user" if "User" in name else "role"
            return IamChange(name, kind, _field(call, f"{kind}Name", f"a {kind} name"),
                             tag_keys=_tag_keys(call) if name in TAG_CALLS else ())
        case "AddUserToGroup":
            return IamChange(name, "group", _field(call, "groupName", "a group name"),
                             user_name=_field(call, "userName", "a user name"))
    # CreateAccessKey: root's own key (no userName); another user's key is access_key_auditor's.
    key: Any = (call.response or {}).get("accessKey")
    key_id = key.get("accessKeyId") if isinstance(key, dict) else None
    root = call.identity.get("type") == "Root" and call.request.get("userName") is None
    return IamChange(name, access_key_id=key_id if isinstance(key_id, str) else None,
                     by_root=root)
