"""The hourly reconciliation of subscription filters: log groups named in LOG_GROUPS or tagged
`opskit:ship-logs=true` get a filter named `opskit-log-shipper` that sends to this function.

Only a filter with exactly that name AND this function as destination is ours: one with the name
and another destination is left alone and reported. A log group takes at most two filters
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html): one that
has two already is reported, never changed. Exempt log groups are not touched; dry-run plans.
Before a filter is added, or one of ours changed or deleted, the group's filters and tags are
read again: a group exempt since, a filter with our name made since, or a group now at two
filters is skipped and reported. Our filter on the shipper's own log group is removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from log_shipper.settings import FILTER_NAME, ShipperConfig
from opskit.actions import Action, Executor, Plan, error_code
from opskit.runner import TargetRun
from opskit.tags import TRUE_VALUES, is_exempt

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

RESOURCE_TYPE = "logs:log-group"
SUBSCRIBE, UPDATE, UNSUBSCRIBE = "add-filter", "update-filter", "remove-filter"
MAX_FILTERS_PER_GROUP = 2


@dataclass(frozen=True, slots=True)
class Filter:
    name: str
    destination_arn: str
    pattern: str


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    arn: str
    tags: Mapping[str, str]
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True, slots=True)
class FilterParams:
    log_group: str
    pattern: str


def wanted(group: Group, config: ShipperConfig) -> bool:
    tag = group.tags.get(config.ship_tag_key)
    return group.name in config.log_groups or (tag is not None and
                                               tag.strip().lower() in TRUE_VALUES)


def plan_group(group: Group, config: ShipperConfig, function_arn: str,
               own_log_group: str) -> Plan:
    """What one log group needs (pure)."""
    plan = Plan()
    ours = [f for f in group.filters if f.name == FILTER_NAME]
    mine = [f for f in ours if f.destination_arn == function_arn]

    def action(kind: str, reason: str) -> Action:
        return Action(group.name, RESOURCE_TYPE, kind, reason,
                      details={"filter": FILTER_NAME, "pattern": config.filter_pattern},
                      tags=group.tags, params=FilterParams(group.name, config.filter_pattern))

    if group.name == own_log_group:  # its own logs would feed it forever
        if mine:
            plan.add(action(UNSUBSCRIBE, "the shipper's own log group: never shipped"))
        elif wanted(group, config):
            plan.add(action(SUBSCRIBE, "selected"), "the shipper's own log group: never shipped")
        return plan
    if not wanted(group, config):
        if mine:
            plan.add(action(UNSUBSCRIBE, f"not in LOG_GROUPS and not tagged "
                                         f"{config.ship_tag_key}=true"))
        return plan
    if ours and not mine:
        plan.failed.append((action(SUBSCRIBE, "selected"),
                            f"a filter named {FILTER_NAME} sends to {ours[0].destination_arn}: "
                            f"not ours, left alone"))
        return plan
    if mine:
        if mine[0].pattern != config.filter_pattern:
            plan.add(action(UPDATE, f"filter pattern {mine[0].pattern!r} is not "
                                    f"{config.filter_pattern!r}"))
        return plan
    if len(group.filters) >= MAX_FILTERS_PER_GROUP:
        plan.failed.append((action(SUBSCRIBE, "selected"),
                            f"already has {len(group.filters)} subscription filters (the limit "
                            f"is {MAX_FILTERS_PER_GROUP}): "
                            f"{', '.join(sorted(f.name for f in group.filters))}"))
        return plan
    reason = ("named in LOG_GROUPS" if group.name in config.log_groups
              else f"tagged {config.ship_tag_key}=true")
    plan.add(action(SUBSCRIBE, reason))
    return plan


class SubscriptionStore:
    """The CloudWatch Logs calls of the reconciliation."""

    def __init__(self, logs: CloudWatchLogsClient) -> None:
        self.logs = logs

    def groups(self) -> list[tuple[str, str]]:
        found = []
        for page in self.logs.get_paginator("describe_log_groups").paginate():
            for group in page.get("logGroups", []):
                arn = group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
                found.append((group["logGroupName"], arn))
        return found

    def arn_of(self, name: str) -> str | None:
        """The ARN of the log group with exactly this name (the prefix lists it first)."""
        answer = self.logs.describe_log_groups(logGroupNamePrefix=name, limit=1)
        for group in answer.get("logGroups", []):
            if group["logGroupName"] == name:
                return group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
        return None

    def tags(self, arn: str) -> dict[str, str]:
        return dict(self.logs.list_tags_for_resource(resourceArn=arn).get("tags", {}))

    def filters(self, name: str) -> tuple[Filter, ...]:
        answer = self.logs.describe_subscription_filters(logGroupName=name)
        return tuple(Filter(str(f.get("filterName", "")), str(f.get("destinationArn", "")),
                            str(f.get("filterPattern", "")))
                     for f in answer.get("subscriptionFilters", []))

    def put(self, params: FilterParams, function_arn: str) -> None:
        self.logs.put_subscription_filter(logGroupName=params.log_group, filterName=FILTER_NAME,
                                          filterPattern=params.pattern,
                                          destinationArn=function_arn)

    def delete(self, params: FilterParams) -> None:
        self.logs.delete_subscription_filter(logGroupName=params.log_group,
                                             filterName=FILTER_NAME)


def read_groups(store: SubscriptionStore, config: ShipperConfig,
                own_log_group: str = "") -> list[Group]:
    """Every log group with its tags; the filters of those the shipper may have to act on
    (selected, carrying the ship tag with any value, or the shipper's own log group)."""
    groups = []
    for name, arn in store.groups():
        tags = store.tags(arn)
        group = Group(name, arn, tags)
        if (name in config.log_groups or config.ship_tag_key in tags
                or name == own_log_group):
            group = Group(name, arn, tags, store.filters(name))
        groups.append(group)
    return groups


def _confirm(store: SubscriptionStore, action: Action, config: ShipperConfig,
             function_arn: str, own_log_group: str) -> str | None:
    """Read the group again just before its filter is added, changed or deleted.

    None when the same action is still due, else why it is not: the group now exempt, a filter
    with our name made meanwhile, the group at its filter limit, or anything else changed.
    """
    name = action.resource
    try:
        arn = store.arn_of(name)
        if arn is None:
            return "the log group is gone"
        fresh = Group(name, arn, store.tags(arn), store.filters(name))
    except (ClientError, BotoCoreError) as exc:
        return f"not changed: the re-read failed ({error_code(exc)})"
    exemption_tag_key = config.common.exemption_tag_key
    if is_exempt(fresh.tags, exemption_tag_key):
        return f"exempt since it was read: tagged {exemption_tag_key}"
    if action.action == SUBSCRIBE:
        taken = [f for f in fresh.filters if f.name == FILTER_NAME]
        if taken:
            return (f"a filter named {FILTER_NAME} was made since it was read (it sends to "
                    f"{taken[0].destination_arn}): left alone")
        if len(fresh.filters) >= MAX_FILTERS_PER_GROUP:
            return (f"has {len(fresh.filters)} subscription filters since it was read (the "
                    f"limit is {MAX_FILTERS_PER_GROUP}): left alone")
    again = plan_group(fresh, config, function_arn, own_log_group)
    if not any(a.action == action.action for a in again.actions):
        return "changed since it was read: left for the next run"
    return None


def reconcile(store: SubscriptionStore, executor: Executor, config: ShipperConfig,
              function_arn: str, own_log_group: str) -> TargetRun:
    groups = read_groups(store, config, own_log_group)
    plan = Plan()
    for group in groups:
        plan.extend(plan_group(group, config, function_arn, own_log_group))
    plan.record(executor)

    def put(batch: Sequence[Action]) -> None:
        for action in batch:
            store.put(action.params_as(FilterParams), function_arn)

    def delete(batch: Sequence[Action]) -> None:
        for action in batch:
            store.delete(action.params_as(FilterParams))

    for kind, apply in ((SUBSCRIBE, put), (UPDATE, put), (UNSUBSCRIBE, delete)):
        due = []
        for action in (a for a in plan.actions if a.action == kind):
            why = None if executor.dry_run or executor.exemption(action.tags) else _confirm(
                store, action, config, function_arn, own_log_group)
            if why is None:
                due.append(action)
            else:
                executor.skip(action, why)
        executor.run(due, apply, idempotent_errors=("ResourceNotFoundException",)
                     if kind == UNSUBSCRIBE else ())
    return summary(executor, len(groups))


def summary(executor: Executor, groups: int) -> TargetRun:
    counts = executor.counts()
    acted = counts["planned"] if executor.dry_run else counts["done"]
    title = (f"Log subscriptions: {acted} {'planned' if executor.dry_run else 'changed'}"
             f"{f', {counts['failed']} to look at' if counts['failed'] else ''}")
    extra: dict[str, Any] = {"log_groups": groups}
    return TargetRun(title=title, severity="warning" if counts["failed"] else "info",
                     extra=extra, quiet=not counts["failed"] and not acted)
