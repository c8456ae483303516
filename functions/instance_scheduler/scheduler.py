"""One target's run: inventory, plan, safety pre-checks, execution and the report title."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Literal

from instance_scheduler.actuators import Actuators
from instance_scheduler.clients import TargetClients
from instance_scheduler.inventory import (
    ASG,
    EC2_INSTANCE,
    ECS_SERVICE,
    RDS_CLUSTER,
    RDS_INSTANCE,
    REDSHIFT_CLUSTER,
    Resource,
    auto_scaling_groups,
    ec2_instances,
    ecs_services,
    rds_auto_started,
    rds_clusters,
    rds_instances,
    redshift_clusters,
    unusable_kms_keys,
)
from instance_scheduler.planner import (
    HIBERNATE,
    RECORDS,
    RESIZE,
    START,
    STOP,
    plan_resources,
)
from instance_scheduler.settings import AsgStopMode, SchedulerConfig
from opskit.actions import Action, Executor, Plan, Status
from opskit.aws import Target
from opskit.instance_store import has_instance_store, refusal
from opskit.runner import TargetRun

_KIND_LABEL = {EC2_INSTANCE: "EC2", ASG: "ASG", RDS_INSTANCE: "RDS",
               RDS_CLUSTER: "RDS cluster", REDSHIFT_CLUSTER: "Redshift",
               ECS_SERVICE: "ECS service"}
_RDS_AUTO_START_NOTE = ("AWS started it after 7 days stopped ({event}); stopping it again: AWS "
                        "restarts a stopped database every 7 days")
_RDS_AUTO_START_EVENT = {RDS_INSTANCE: "RDS-EVENT-0154", RDS_CLUSTER: "RDS-EVENT-0153"}


def collect(clients: TargetClients, config: SchedulerConfig) -> list[Resource]:
    found: list[Resource] = []
    if "ec2" in config.resource_types:
        found.extend(ec2_instances(clients.ec2, config.schedule_tag_key))
    if "asg" in config.resource_types:
        found.extend(auto_scaling_groups(
            clients.autoscaling, clients.ec2, tag_key=config.schedule_tag_key,
            saved_tag_key=config.saved_capacity_tag_key,
            suspended_tag_key=config.suspended_processes_tag_key,
            with_members=config.asg_stop_mode is AsgStopMode.SUSPEND))
    if "rds" in config.resource_types:
        found.extend(rds_instances(clients.rds, config.schedule_tag_key))
        found.extend(rds_clusters(clients.rds, config.schedule_tag_key))
    if "redshift" in config.resource_types:
        found.extend(redshift_clusters(clients.redshift, config.schedule_tag_key,
                                       clients.redshift_arn_prefix))
    if "ecs" in config.resource_types:
        found.extend(ecs_services(clients.ecs, clients.scaling,
                                  tag_key=config.schedule_tag_key,
                                  saved_tag_key=config.saved_capacity_tag_key))
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
        elif action.action == RESIZE and action.resource in problems:
            executor.skip(action, f"its start is refused: {problems[action.resource]}")
        else:
            kept.append(action)
    return kept


def _refuse_instance_store_stops(clients: TargetClients, actions: list[Action],
                                 found: dict[tuple[str, str], Resource],
                                 executor: Executor) -> list[Action]:
    """A stop (or hibernation) erases instance-store volumes, whatever the root device: such an
    instance (or group member, in the suspend mode) is stopped only if its own tag opts in.
    The types are looked up only for the instances about to be stopped."""
    # (resource type, id) of each stopping action -> (instance, type, its tags) it stops
    stopping: dict[tuple[str, str], list[tuple[str, str, Mapping[str, str]]]] = {}
    for action in actions:
        resource = found[(action.resource_type, action.resource)]
        if action.action in (STOP, HIBERNATE) and resource.kind == EC2_INSTANCE:
            stopping[(resource.kind, resource.id)] = [
                (resource.id, resource.instance_type, resource.tags)]
        elif action.action == STOP and resource.group is not None:
            members = resource.group.members_in("running")
            if members:
                stopping[(resource.kind, resource.id)] = [
                    (m.id, m.instance_type, m.tags) for m in members]
    if not stopping:
        return actions
    known = has_instance_store(clients.ec2, {instance_type for instances in stopping.values()
                                             for _, instance_type, _ in instances})
    kept = []
    for action in actions:
        why = None
        for instance, instance_type, tags in stopping.get(
                (action.resource_type, action.resource), []):
            reason = refusal(instance_type, known, tags)
            if reason is not None:
                why = reason if instance == action.resource else f"instance {instance}: {reason}"
                break
        if why is None:
            kept.append(action)
        else:
            executor.skip(action, why)
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


_RECORD = "record"


def title(executor: Executor, dry_run: bool) -> str | None:
    verbs = {START: ("Would start", "Started"), STOP: ("Would stop", "Stopped"),
             HIBERNATE: ("Would hibernate", "Hibernated"),
             _RECORD: ("Would record the state of", "Recorded the state of")}
    tally: Counter[tuple[str, str]] = Counter()
    for outcome in executor.outcomes:
        name = _RECORD if outcome.action.action in RECORDS else (
            outcome.action.action)
        if outcome.status in (Status.DONE, Status.PLANNED) and name in verbs:
            tally[(name, outcome.action.resource_type)] += 1
    parts = []
    for name in (STOP, HIBERNATE, START, _RECORD):
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
    resources = collect(clients, config)
    found = {(r.kind, r.id): r for r in resources}
    plan = plan_resources(resources, config, now)
    plan.record(executor)
    actions = _refuse_unsafe_starts(clients, plan, executor)
    actions = _refuse_instance_store_stops(clients, actions, found, executor)
    actions = _note_rds_auto_starts(clients, actions)
    actuators = Actuators(clients, config, now, {r.id: r.group for r in resources
                                                  if r.group is not None},
                          {r.id: r.service for r in resources if r.service is not None})
    groups: dict[tuple[str, str], list[Action]] = {}
    for action in actions:
        groups.setdefault((action.resource_type, action.action), []).append(action)
    # Resizes first: each sets a stopped instance's type before the start that follows.
    for (kind, name), group in sorted(groups.items(), key=lambda item: item[0][1] != RESIZE):
        actuator = actuators.for_action(kind, name)
        executor.run(group, actuator.apply, batch_size=actuator.batch_size,
                     idempotent_errors=actuator.idempotent_errors)
    # Records alone (resources found already in the wanted state) are routine: logged, and
    # published only with something else.
    routine = all(o.action.action in RECORDS for o in executor.outcomes
                  if o.status in (Status.DONE, Status.PLANNED))
    return TargetRun(title=title(executor, config.common.dry_run),
                     severity="critical" if plan.critical else None, quiet=routine,
                     extra={"by_resource_type": tally_by_type(executor)})


def tally_by_type(executor: Executor) -> dict[str, dict[str, int]]:
    """Per resource type: how many were started, stopped... and skipped or failed."""
    tally: dict[str, Counter[str]] = {}
    for outcome in executor.outcomes:
        key = outcome.action.action if outcome.status in (Status.DONE, Status.PLANNED) else str(
            outcome.status)
        tally.setdefault(outcome.action.resource_type, Counter())[key] += 1
    return {kind: dict(sorted(counts.items())) for kind, counts in sorted(tally.items())}
