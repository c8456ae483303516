"""One target's run: inventory, plan, safety pre-checks, execution and the report title."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Literal

from instance_scheduler.actuators import Actuators
from instance_scheduler.clients import TargetClients
from instance_scheduler.inventory import (
    ASG,
    EC2_INSTANCE,
    RDS_CLUSTER,
    RDS_INSTANCE,
    Resource,
    auto_scaling_groups,
    ec2_instances,
    rds_auto_started,
    rds_clusters,
    rds_instances,
    unusable_kms_keys,
)
from instance_scheduler.planner import HIBERNATE, START, STOP, Plan, plan_resources
from instance_scheduler.settings import SchedulerConfig
from opskit.actions import Action, Executor, Status
from opskit.aws import Target
from opskit.runner import TargetRun

_KIND_LABEL = {EC2_INSTANCE: "EC2", ASG: "ASG", RDS_INSTANCE: "RDS",
               RDS_CLUSTER: "RDS cluster"}
_RDS_AUTO_START_NOTE = ("AWS started it after 7 days stopped ({event}); stopping it again: AWS "
                        "restarts a stopped database every 7 days")
_RDS_AUTO_START_EVENT = {RDS_INSTANCE: "RDS-EVENT-0154", RDS_CLUSTER: "RDS-EVENT-0153"}


def collect(clients: TargetClients, config: SchedulerConfig) -> list[Resource]:
    found: list[Resource] = []
    if "ec2" in config.resource_types:
        found.extend(ec2_instances(clients.ec2, config.schedule_tag_key))
    if "asg" in config.resource_types:
        found.extend(auto_scaling_groups(clients.autoscaling,
                                         config.schedule_tag_key, config.saved_capacity_tag_key))
    if "rds" in config.resource_types:
        found.extend(rds_instances(clients.rds, config.schedule_tag_key))
        found.extend(rds_clusters(clients.rds, config.schedule_tag_key))
    return found


def _refuse_unsafe_starts(clients: TargetClients, plan: Plan,
                          executor: Executor) -> list[Action]:
    """EC2 instances whose volume key is unusable are reported instead of started."""
    starts = [a.resource for a in plan.actions if a.resource_type == EC2_INSTANCE
              and a.action == START]
    if not starts:
        return plan.actions
    problems = unusable_kms_keys(clients.ec2, clients.kms, starts)
    kept = []
    for action in plan.actions:
        if action.action == START and action.resource in problems:
            executor.fail(action, problems[action.resource])
        else:
            kept.append(action)
    return kept


def _note_rds_auto_starts(clients: TargetClients, actions: list[Action]) -> list[Action]:
    noted: list[Action] = []
    started: dict[str, set[str]] = {}
    sources: dict[str, Literal["db-instance", "db-cluster"]] = {
        RDS_INSTANCE: "db-instance", RDS_CLUSTER: "db-cluster"}
    for action in actions:
        source = sources.get(action.resource_type)
        if action.action == STOP and source is not None:
            if source not in started:
                started[source] = rds_auto_started(clients.rds, source)
            if action.resource in started[source]:
                note = _RDS_AUTO_START_NOTE.format(
                    event=_RDS_AUTO_START_EVENT[action.resource_type])
                noted.append(replace(action, details={**action.details, "auto_started": note}))
                continue
        noted.append(action)
    return noted


def title(executor: Executor, dry_run: bool) -> str | None:
    verbs = {START: ("Would start", "Started"), STOP: ("Would stop", "Stopped"),
             HIBERNATE: ("Would hibernate", "Hibernated")}
    tally: Counter[tuple[str, str]] = Counter()
    for outcome in executor.outcomes:
        if outcome.status in (Status.DONE, Status.PLANNED) and outcome.action.action in verbs:
            tally[(outcome.action.action, outcome.action.resource_type)] += 1
    parts = []
    for name in (STOP, HIBERNATE, START):
        kinds = [f"{n} {_KIND_LABEL[kind]}" for (act, kind), n in sorted(tally.items())
                 if act == name]
        if kinds:
            parts.append(f"{verbs[name][0 if dry_run else 1]} {', '.join(kinds)}")
    failed = executor.counts()["failed"]
    if failed:
        parts.append(f"{failed} failed")
    return "; ".join(parts) or None


def schedule_target(target: Target, executor: Executor, config: SchedulerConfig,
                    now: datetime) -> TargetRun:
    clients = TargetClients(target)
    plan = plan_resources(collect(clients, config), config, now)
    for action, note in plan.invalid:
        executor.fail(action, note)
    for action, note in plan.skipped:
        executor.skip(action, note)
    actions = _refuse_unsafe_starts(clients, plan, executor)
    actions = _note_rds_auto_starts(clients, actions)
    actuators = Actuators(clients, config.saved_capacity_tag_key)
    groups: dict[tuple[str, str], list[Action]] = {}
    for action in actions:
        groups.setdefault((action.resource_type, action.action), []).append(action)
    for (kind, name), group in groups.items():
        actuator = actuators.for_action(kind, name)
        executor.run(group, actuator.apply, batch_size=actuator.batch_size,
                     idempotent_errors=actuator.idempotent_errors)
    return TargetRun(title=title(executor, config.common.dry_run),
                     extra={"by_resource_type": tally_by_type(executor)})


def tally_by_type(executor: Executor) -> dict[str, dict[str, int]]:
    """Per resource type: how many were started, stopped... and skipped or failed."""
    tally: dict[str, Counter[str]] = {}
    for outcome in executor.outcomes:
        key = outcome.action.action if outcome.status in (Status.DONE, Status.PLANNED) else str(
            outcome.status)
        tally.setdefault(outcome.action.resource_type, Counter())[key] += 1
    return {kind: dict(sorted(counts.items())) for kind, counts in sorted(tally.items())}
