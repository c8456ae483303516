"""Pure planning: from resources, their tags and the time, the actions that close the gap.

The scheduler acts at transitions: when the wanted state has changed since the scheduler last
acted on a resource (its `opskit:scheduler-last` tag, see last_action.py), it applies the new
state, or records that the resource was already in it. Until the next transition, a resource
someone starts, stops or resizes by hand is left alone. An enforced schedule (the leading word
`enforced`, or ENFORCE_SCHEDULES) and an active override are applied at every run instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from instance_scheduler.inventory import (
    EC2_INSTANCE,
    RDS_CLUSTER,
    RDS_INSTANCE,
    Resource,
    State,
    format_capacity,
)
from instance_scheduler.last_action import LastAction, Verb, parse_last_action
from instance_scheduler.schedule import Mode, Schedule, ScheduleError, parse_schedule
from instance_scheduler.settings import AsgStopMode, SchedulerConfig
from opskit.actions import Action, Plan
from opskit.tags import is_exempt

if TYPE_CHECKING:
    from instance_scheduler.override import Override

START, STOP, HIBERNATE, REMOVE_OVERRIDE = "start", "stop", "hibernate", "remove-override"
# Before an EC2 start: the period's instance type, set on the stopped instance (its own outcome).
RESIZE = "resize"
# At a transition the resource was already in the wanted state: only the tag is written.
RECORD_RUNNING, RECORD_STOPPED = "record-running", "record-stopped"
# Found running at a start, after the scheduler had stopped it: started by hand before its period.
RECORD_STARTED_EARLY = "record-started-early"
RECORDS = frozenset({RECORD_RUNNING, RECORD_STOPPED, RECORD_STARTED_EARLY})
# The action name of a resource whose tags could not be read: nothing is done to it.
CHECK_TAGS = "check-tags"
# The action name of a resource in a state only a person can repair.
CHECK_STATE = "check-state"
# AWS starts a database that has stayed stopped for 7 days.
RDS_MAX_STOPPED = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Wanted:
    running: bool
    why: str
    mode: Mode
    # Applied at every run (an enforced schedule, an active override), not only at transitions.
    enforced: bool
    # The latest transition at or before now; None when the wanted state has not changed
    # within a year (then only a resource never acted on is set to it).
    since: datetime | None
    schedule: Schedule | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """What the scheduler's calls send beyond the resource id."""

    arn: str = ""  # RDS tag calls name the resource by ARN
    tag_key: str = ""  # the tag a removal takes off
    instance_type: str = ""  # a resize: the period's type; a start: the type it was resized to
    previous_type: str = ""  # a resize, and the start after it: the instance's own type
    # A stop of a group or service that already carries a saved size not written in this stop
    # window (a stop whose size change failed leaves one; so does a schedule tag removed and put
    # back): the size saved now is the current one.
    refresh_saved: bool = False


def _action(resource: Resource, name: str, reason: str, *, tag_key: str = "",
            **details: object) -> Action:
    extra = {"arn": resource.arn} if resource.arn else {}
    if tag_key:
        extra["tag_key"] = tag_key
    return Action(resource.id, resource.kind, name, reason,
                  details={"state": resource.raw_state, **resource.details, **extra, **details},
                  tags=resource.tags, params=Target(arn=resource.arn, tag_key=tag_key))


def _wanted_by_schedule(resource: Resource, config: SchedulerConfig, now: datetime,
                        plan: Plan) -> Wanted | None:
    value = resource.tags[config.schedule_tag_key]
    try:
        schedule = parse_schedule(value, default_timezone=config.default_timezone,
                                  named=config.schedules, calendars=config.holiday_calendars)
    except ScheduleError as exc:
        plan.failed.append((_action(resource, CHECK_TAGS, f"invalid {config.schedule_tag_key} tag "
                                     f"{value!r}: {exc}"), "resource left untouched"))
        return None
    running = schedule.wants_running(now)
    local = now.astimezone(schedule.timezone)
    if schedule.is_holiday(local.date()):
        why = f"holiday {local.date().isoformat()} in '{value}'"
    else:
        why = f"{'inside' if running else 'outside'} '{value}'"
    return Wanted(running, why, schedule.mode, config.enforce or schedule.enforced,
                  schedule.last_change(now), schedule)


def _parse_override(value: str) -> Override:
    # Imported when used: few resources carry an override (cold start, docs/opskit.md).
    from instance_scheduler.override import parse_override  # noqa: PLC0415

    return parse_override(value)


def _wanted(resource: Resource, config: SchedulerConfig, now: datetime,
            plan: Plan) -> Wanted | None:
    override_value = resource.tags.get(config.override_tag_key)
    expired: datetime | None = None
    if override_value is not None:
        try:
            override = _parse_override(override_value)
        except ValueError as exc:  # OverrideError
            plan.failed.append((_action(resource, CHECK_TAGS, f"invalid {config.override_tag_key} "
                                         f"tag {override_value!r}: {exc}"),
                                 "resource left untouched"))
            return None
        if override.active_at(now):
            return Wanted(override.running, f"override '{override.describe()}'", Mode.BOTH,
                          enforced=True, since=None)
        plan.actions.append(_action(resource, REMOVE_OVERRIDE,
                                    f"override '{override.describe()}' has expired; "
                                    "the schedule applies again",
                                    tag_key=config.override_tag_key))
        expired = override.until  # a permanent override is never expired
    wanted = _wanted_by_schedule(resource, config, now, plan)
    if wanted is None or expired is None:
        return wanted
    # The override's end is a transition too: the schedule applies again from then.
    since = expired if wanted.since is None else max(wanted.since, expired)
    return Wanted(wanted.running, wanted.why, wanted.mode, wanted.enforced, since,
                  wanted.schedule)


def _is_in(resource: Resource, running: bool) -> bool:
    return resource.state is (State.RUNNING if running else State.STOPPED)


def _restarted_by_aws(resource: Resource, wanted: Wanted, last: LastAction,
                      now: datetime) -> bool:
    """A database the scheduler left stopped, found available with no transition since, at
    least 7 days later: taken to be AWS's automatic start, not a person's (a person who starts
    it then is stopped again; an override keeps it running)."""
    return (resource.kind in (RDS_INSTANCE, RDS_CLUSTER) and not wanted.running
            and resource.state is State.RUNNING and last.left_stopped
            and now - last.at >= RDS_MAX_STOPPED)


def _changed_by_hand(resource: Resource, wanted: Wanted, last: LastAction,
                     now: datetime) -> str:
    upcoming = wanted.schedule.next_change(now) if wanted.schedule is not None else None
    until = (f"the schedule's next change at {upcoming:%Y-%m-%dT%H:%M}Z" if upcoming
             else "the schedule's next change")
    group, service = resource.group, resource.service
    if group is not None and not wanted.running and group.saved_capacity is not None:
        what = f"resized by hand to {format_capacity(group.capacity)}"
        kept = (f"; the saved size {format_capacity(group.saved_capacity)} is kept for the next "
                "start")
    elif service is not None and not wanted.running and service.saved_count is not None:
        what = f"scaled by hand to a desired count of {service.desired}"
        kept = f"; the saved count {service.saved_count} is kept for the next start"
    elif resource.state is State.PARTLY:
        what, kept = "changed by hand", ""
    else:
        what = f"{'stopped' if wanted.running else 'started'} by hand"
        kept = ""
    return (f"{what} since opskit's last action ({last.value()}): left alone until {until}"
            f"{kept} (the leading word 'enforced' keeps a resource to its schedule)")


def _service_problem(resource: Resource, name: str, config: SchedulerConfig,
                     plan: Plan, action: Action) -> bool:
    """As _group_problem, for an ECS service: a desired count the scheduler did not save is
    never invented."""
    service = resource.service
    if service is None:
        return False
    key = config.saved_capacity_tag_key
    if service.saved is not None and service.saved_count is None:
        plan.failed.append((action, f"saved count {key}={service.saved!r} is not a whole "
                                     "number from 1: a saved count is never overwritten or "
                                     "guessed; fix or delete the tag"))
        return True
    if name == START and service.desired == 0 and service.saved_count is None:
        plan.critical.append((action, f"the service's desired count is 0 and its saved count "
                                      f"({key}) is missing: nothing guessed; set its desired "
                                      "count by hand"))
        return True
    return False


def _group_problem(resource: Resource, name: str, config: SchedulerConfig,
                   plan: Plan, action: Action) -> bool:
    """Records why a group cannot be started or stopped (and returns True), or returns False.
    Nothing is ever guessed: a size the scheduler did not save is not invented."""
    group = resource.group
    if group is None:
        return False
    key = config.saved_capacity_tag_key
    if name == START and group.capacity == (0, 0, 0) and group.saved_capacity is None:
        found = ("is missing" if group.saved is None
                 else f"is {group.saved!r}, not min/max/desired")
        plan.critical.append((action, f"the group is at 0/0/0 and its saved size ({key}) "
                                      f"{found}: nothing guessed; set its min/max/desired by "
                                      "hand"))
        return True
    if group.saved is not None and group.saved_capacity is None:
        plan.failed.append((action, f"saved size {key}={group.saved!r} is not "
                                     "min/max/desired: a saved size is never overwritten or "
                                     "guessed; fix or delete the tag"))
        return True
    if name == STOP and config.asg_stop_mode is AsgStopMode.SUSPEND:
        for member in group.members_in("running"):
            if member.spot:
                plan.skipped.append((action, f"instance {member.id} is a spot instance, which "
                                             "EC2 cannot stop (ASG_STOP_MODE scale-to-zero "
                                             "can stop this group)"))
                return True
            if is_exempt(member.tags, config.common.exemption_tag_key):
                plan.skipped.append((action, f"instance {member.id} is exempt: tagged "
                                             f"{config.common.exemption_tag_key}"))
                return True
    return False


def plan_resource(resource: Resource, config: SchedulerConfig, now: datetime, plan: Plan) -> None:
    if resource.needs_a_person is not None:
        severity, note = resource.needs_a_person
        action = _action(resource, CHECK_STATE, f"{resource.raw_state}: needs a person")
        (plan.critical if severity == "critical" else plan.failed).append((action, note))
        return
    wanted = _wanted(resource, config, now, plan)
    if wanted is None:
        return
    if (wanted.running and wanted.mode is Mode.STOP_ONLY) or (
            not wanted.running and wanted.mode is Mode.START_ONLY):
        return
    name = START if wanted.running else STOP
    last = parse_last_action(resource.tags.get(config.last_action_tag_key))
    # The latest transition was applied (or recorded) by the scheduler: what differs since is
    # someone's doing.
    handled = (not wanted.enforced and last is not None
               and (wanted.since is None or last.at >= wanted.since))
    if resource.state is State.TRANSITIONING:
        if not handled:
            plan.skipped.append((_action(resource, name, wanted.why),
                                 f"in transition ({resource.raw_state}): the next run acts on "
                                 "the state it settles in"))
        return
    if _is_in(resource, wanted.running):
        if (not wanted.enforced and not handled and resource.unsupported is None
                and not is_exempt(resource.tags, config.common.exemption_tag_key)):
            state = "running" if wanted.running else "stopped"
            early = wanted.running and last is not None and last.left_stopped
            plan.actions.append(_action(
                resource, (RECORD_STARTED_EARLY if early else RECORD_RUNNING) if wanted.running
                else RECORD_STOPPED,
                f"already {state} at the transition ({wanted.why}): recorded, so a change by "
                "hand is left alone until the next one"))
        return
    action = _action(resource, name, wanted.why)
    if resource.unsupported is not None:
        plan.skipped.append((action, resource.unsupported))
        return
    unread = last is None and config.last_action_tag_key in resource.tags
    spared = None if handled or unread else _spared(wanted, last)
    if spared is not None:  # recorded, so later runs leave it until the next transition
        plan.actions.append(_action(resource, RECORD_RUNNING, f"{wanted.why}; {spared}"))
        return
    if handled:
        assert last is not None  # noqa: S101 - handled implies a recorded action
        if _restarted_by_aws(resource, wanted, last, now):
            plan.actions.append(_with_snapshot(_action(
                resource, STOP, wanted.why, restarted_by_aws=(
                    f"opskit left it stopped at {last.describe()} and the schedule has not "
                    "changed since: taken to be AWS's start after 7 days stopped, so stopped "
                    "again")), resource, config, now))
        else:
            plan.skipped.append((action, _changed_by_hand(resource, wanted, last, now)))
        return
    if (_group_problem(resource, name, config, plan, action)
            or _service_problem(resource, name, config, plan, action)):
        return
    if (name == STOP and config.hibernate and resource.kind == EC2_INSTANCE
            and resource.hibernate_capable):
        action = _action(resource, HIBERNATE, wanted.why)
    if name == START and resource.kind == EC2_INSTANCE:
        action = _with_type(action, resource, wanted, last, config=config, now=now, plan=plan)
    if name == STOP and (resource.group is not None or resource.service is not None):
        action = _with_refresh(action, wanted, last)
    plan.actions.append(_with_snapshot(action, resource, config, now))


def _with_refresh(action: Action, wanted: Wanted, last: LastAction | None) -> Action:
    """A saved size is kept across a stop only when the scheduler itself stopped the resource
    in this stop window (an enforced schedule stopping it again after a person's resize keeps
    the size it had before); otherwise the size saved is the current one."""
    if last is not None and last.left_stopped and (
            wanted.since is None or last.at >= wanted.since):
        return action
    return replace(action, params=replace(action.params_as(Target), refresh_saved=True))


def _with_type(action: Action, resource: Resource, wanted: Wanted, last: LastAction | None,
               *, config: SchedulerConfig, now: datetime, plan: Plan) -> Action:
    """An EC2 start in a period that names an instance type (`08:00-19:00@t3.large`): a
    `resize` action (its own outcome in the report) sets the type first, but only on an
    instance the scheduler itself left stopped (its last-action tag says stopped or
    found-stopped; the role allows the change only then). A hibernated instance keeps its
    type, which EC2 cannot change while it is hibernated. The start carries the instance's own
    type, to go back to if EC2 cannot start it with the new one."""
    wanted_type = wanted.schedule.instance_type_at(now) if wanted.schedule else None
    if wanted_type is None or wanted_type == resource.instance_type:
        return action
    if last is None or not last.left_stopped:
        note = "opskit did not stop it, so its type is left as it is"
    elif config.hibernate and resource.hibernate_capable:
        note = "it may be hibernated, and a hibernated instance's type cannot change"
    else:
        types = Target(arn=resource.arn, instance_type=wanted_type,
                       previous_type=resource.instance_type)
        plan.actions.append(replace(
            _action(resource, RESIZE, f"{wanted.why}: the period runs {wanted_type}",
                    resize=f"{resource.instance_type} to {wanted_type}"), params=types))
        return replace(action, params=types)
    return replace(action, details={**action.details, "instance_type": (
        f"kept {resource.instance_type} (the period names {wanted_type}): {note}")})


def _with_snapshot(action: Action, resource: Resource, config: SchedulerConfig,
                   now: datetime) -> Action:
    """A DB instance stop names, in its report, the snapshot it takes (RDS_SNAPSHOT_ON_STOP)."""
    if action.action != STOP or resource.kind != RDS_INSTANCE or not config.rds_snapshot_on_stop:
        return action
    # Imported when used: most stacks take no stop snapshot (cold start, docs/opskit.md).
    from instance_scheduler.stop_snapshots import stop_snapshot  # noqa: PLC0415

    snapshot = stop_snapshot(resource.arn, now).identifier
    return replace(action, details={**action.details, "snapshot": snapshot})


def _spared(wanted: Wanted, last: LastAction | None) -> str | None:
    """Why a running resource the schedule wants stopped is left running, as AWS Instance
    Scheduler's options say: `no-stop-new` spares a resource the scheduler never acted on,
    `retain-running` one a person started before its period began (found running at the
    period's start after the scheduler had left it stopped)."""
    schedule = wanted.schedule
    if wanted.running or wanted.enforced or schedule is None:
        return None
    if last is None and not schedule.stop_new:
        return "new and running: left running until the next stop (no-stop-new)"
    if (schedule.retain_running and last is not None
            and last.verb is Verb.FOUND_STARTED_EARLY and wanted.since is not None):
        began = schedule.last_change(wanted.since - timedelta(minutes=1))
        if began is not None and last.at >= began:
            return ("started by hand before its period began at "
                    f"{began.astimezone(UTC):%Y-%m-%dT%H:%MZ}: left running (retain-running)")
    return None


def plan_resources(resources: Iterable[Resource], config: SchedulerConfig,
                   now: datetime) -> Plan:
    plan = Plan()
    for resource in resources:
        plan_resource(resource, config, now, plan)
    return plan

