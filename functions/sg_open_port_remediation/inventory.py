"""Live reads of security groups and their rules (never the event's copy), paginated."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opskit.actions import chunks
from opskit.tags import tags_to_dict
from sg_open_port_remediation.rules import Rule

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

PAGE_SIZE = 1000  # the DescribeSecurityGroupRules maximum
GROUP_IDS_PER_CALL = 200  # keeps the group-id filter well inside the request size


@dataclass(frozen=True, slots=True)
class Group:
    group_id: str
    name: str
    vpc_id: str
    description: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, group: Mapping[str, Any]) -> Group:
        return cls(str(group["GroupId"]), str(group.get("GroupName", "")),
                   str(group.get("VpcId", "")), str(group.get("Description", "")),
                   tags_to_dict(group.get("Tags")))


def ingress_rules(ec2: EC2Client, group_ids: Sequence[str] | None = None) -> Iterator[Rule]:
    """Every ingress rule of the region (the sweep) or of the given groups (an event)."""
    paginator = ec2.get_paginator("describe_security_group_rules")
    batches: Iterable[Sequence[str] | None] = (
        [None] if group_ids is None else chunks(group_ids, GROUP_IDS_PER_CALL))
    for batch in batches:
        kwargs: dict[str, Any] = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
        if batch is not None:
            kwargs["Filters"] = [{"Name": "group-id", "Values": list(batch)}]
        for page in paginator.paginate(**kwargs):
            for rule in page.get("SecurityGroupRules", []):
                parsed = Rule.from_api(rule)
                if not parsed.is_egress:
                    yield parsed


def groups(ec2: EC2Client, group_ids: Sequence[str]) -> dict[str, Group]:
    """The named groups (missing ones are simply absent from the result)."""
    found: dict[str, Group] = {}
    paginator = ec2.get_paginator("describe_security_groups")
    for batch in chunks(sorted(set(group_ids)), GROUP_IDS_PER_CALL):
        # A filter, unlike GroupIds, does not fail the whole call when one group is gone.
        for page in paginator.paginate(Filters=[{"Name": "group-id", "Values": list(batch)}]):
            for group in page.get("SecurityGroups", []):
                found[group["GroupId"]] = Group.from_api(group)
    return found


def group_ids_named(ec2: EC2Client, name: str) -> list[str]:
    """Every group of the region with this name, sorted: default-VPC calls may name a group
    instead of giving its id, and other VPCs may hold groups of the same name."""
    found: set[str] = set()
    paginator = ec2.get_paginator("describe_security_groups")
    for page in paginator.paginate(Filters=[{"Name": "group-name", "Values": [name]}]):
        found.update(g["GroupId"] for g in page.get("SecurityGroups", []))
    return sorted(found)
