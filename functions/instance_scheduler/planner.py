"""Pure planning: from resources, their tags and the time, the actions that close the gap."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from instance_scheduler.inventory import EC2_INSTANCE, Resource, State
from instance_scheduler.override import OverrideError, parse_override
from instance_scheduler.schedule import Mode, ScheduleError, parse_schedule
from instance_scheduler.settings import SchedulerConfig
from opskit.actions import Action

START, STOP, HIBERNATE, REMOVE_OVERRIDE = "start", "stop", "hibernate", "remove-override"
# The action name of a resource whose tags could not be read: nothing is done to it.
CHECK_TAGS = "check-tags"


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    skipped: list[tuple[Action, str]] = field(default_factory=list)
    invalid: list[tuple[Action, str]] = field(default_factory=list)


def _action(resource: Resource, name: str, reason: str, **details: object) -> Action:
    extra = {"arn": resource.arn} if resource.arn else {}
    return Action(resource.id, resource.kind, name, reason,
                  details={"state": resource.raw_state, **resource.details, **extra, **details},
                  tags=resource.tags)


def _desired_by_schedule(resource: Resource, config: SchedulerConfig, now: datetime,
                         plan: Plan) -> tuple[bool, str, Mode] | None:
    value = resource.tags[config.schedule_tag_key]
    try:
        schedule = parse_schedule(value, default_timezone=config.default_timezone,
                                  named=config.schedules)
    except ScheduleError as exc:
        plan.invalid.append((_action(resource, CHECK_TAGS, f"invalid {config.schedule_tag_key} tag "
                                     f"{value!r}: {exc}"), "resource left untouched"))
        return None
    running = schedule.wants_running(now)
    local = now.astimezone(schedule.timezone)
    if local.date() in schedule.holidays:
        why = f"holiday {local.date().isoformat()} in '{value}'"
    else:
        why = f"{'inside' if running else 'outside'} '{value}'"
    return running, why, schedule.mode


def plan_resource(resource: Resource, config: SchedulerConfig, now: datetime, plan: Plan) -> None:
    override_value = resource.tags.get(config.override_tag_key)
    desired: tuple[bool, str, Mode] | None = None
    if override_value is not None:
        try:
            override = parse_override(override_value)
        except OverrideError as exc:
            plan.invalid.append((_action(resource, CHECK_TAGS, f"invalid {config.override_tag_key} "
                                         f"tag {override_value!r}: {exc}"),
                                 "resource left untouched"))
            return
        if override.active_at(now):
            desired = (override.running, f"override '{override.describe()}'", Mode.BOTH)
        else:
            plan.actions.append(_action(resource, REMOVE_OVERRIDE,
                                        f"override '{override.describe()}' has expired; "
                                        "the schedule applies again",
                                        tag_key=config.override_tag_key))
    if desired is None:
        desired = _desired_by_schedule(resource, config, now, plan)
        if desired is None:
            return
    running, why, mode = desired
    if (running and mode is Mode.STOP_ONLY) or (not running and mode is Mode.START_ONLY):
        return
    name = START if running else STOP
    if resource.state is State.TRANSITIONING:
        plan.skipped.append((_action(resource, name, why),
                             f"in transition ({resource.raw_state}): the next run acts on the "
                             "state it settles in"))
        return
    if running == (resource.state is State.RUNNING):
        return
    if (name == STOP and config.hibernate and resource.kind == EC2_INSTANCE
            and resource.hibernate_capable):
        name = HIBERNATE
    action = _action(resource, name, why)
    if resource.unsupported is not None:
        plan.skipped.append((action, resource.unsupported))
    else:
        plan.actions.append(action)


def plan_resources(resources: Iterable[Resource], config: SchedulerConfig,
                   now: datetime) -> Plan:
    plan = Plan()
    for resource in resources:
        plan_resource(resource, config, now, plan)
    return plan
