"""What a CloudTrail record says about security groups: the groups, and who opened which rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opskit.cloudtrail import ApiCall
from opskit.events import EventError

CALLS = frozenset({"AuthorizeSecurityGroupIngress", "ModifySecurityGroupRules",
                   "CreateSecurityGroup"})


@dataclass(frozen=True, slots=True)
class GroupChange:
    group_id: str | None
    group_name: str | None
    # rule id -> who made the call (the rules the call created or changed)
    opened_by: Mapping[str, str] = field(default_factory=dict)


def _items(value: Any) -> list[Mapping[str, Any]]:
    """CloudTrail's `{"items": [...]}` lists (or a bare object/list), leniently."""
    if isinstance(value, Mapping):
        value = value.get("items", [value])
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def group_change(call: ApiCall) -> GroupChange:
    """Raises EventError naming the field when the record lacks the group."""
    who = str(call.identity.get("arn") or "unknown")
    request, response = call.request, call.response or {}
    if call.event_name == "CreateSecurityGroup":
        group_id = response.get("groupId")
        if not isinstance(group_id, str):
            raise EventError("detail.responseElements.groupId", group_id, "a security group id")
        return GroupChange(group_id, None)
    if call.event_name == "ModifySecurityGroupRules":
        modify = request.get("ModifySecurityGroupRulesRequest")
        modify = modify if isinstance(modify, Mapping) else {}
        group_id = modify.get("GroupId")
        if not isinstance(group_id, str):
            raise EventError("detail.requestParameters.ModifySecurityGroupRulesRequest.GroupId",
                             group_id, "a security group id")
        rules = [r.get("SecurityGroupRuleId") for r in _items(modify.get("SecurityGroupRule"))]
        return GroupChange(group_id, None, {r: who for r in rules if isinstance(r, str)})
    group_id, name = request.get("groupId"), request.get("groupName")
    if not isinstance(group_id, str) and not isinstance(name, str):
        raise EventError("detail.requestParameters.groupId", group_id,
                         "a security group id (or groupName)")
    created = _items(response.get("securityGroupRuleSet"))
    rules = [r.get("securityGroupRuleId") for r in created]
    if not isinstance(group_id, str):
        # Named by groupName: the rules EC2 created carry the group's id, and a name alone
        # can match groups of several VPCs.
        ids = {r.get("groupId") for r in created if isinstance(r.get("groupId"), str)}
        group_id = ids.pop() if len(ids) == 1 else None
    return GroupChange(group_id if isinstance(group_id, str) else None,
                       name if isinstance(name, str) else None,
                       {r: who for r in rules if isinstance(r, str)})
