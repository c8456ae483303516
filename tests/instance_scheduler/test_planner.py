"""The planner is pure: resources, tags and a time in, actions out (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from instance_scheduler.inventory import EC2_INSTANCE, RDS_INSTANCE, Resource, State
from instance_scheduler.planner import plan_resources
from instance_scheduler.settings import SchedulerConfig

SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MONDAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CONFIG = SchedulerConfig.from_env({"AWS_REGION": "eu-west-1", "HIBERNATE": "true"})


def resource(state: State, schedule: str = "mon-fri 08:00-19:00", *, kind: str = EC2_INSTANCE,
             unsupported: str | None = None, hibernate: bool = False, **tags: str) -> Resource:
    return Resource("r-1", kind, state, {"Schedule": schedule, **tags}, raw_state=str(state),
                    unsupported=unsupported, hibernate_capable=hibernate)


@pytest.mark.parametrize(
    ("res", "now", "expected"),
    [
        (resource(State.RUNNING), SATURDAY, [("r-1", "stop")]),
        (resource(State.STOPPED), SATURDAY, []),
        (resource(State.STOPPED), MONDAY, [("r-1", "start")]),
        (resource(State.RUNNING), MONDAY, []),
        (resource(State.STOPPED, "stop-only mon-fri 08:00-19:00"), MONDAY, []),
        (resource(State.RUNNING, "stop-only mon-fri 08:00-19:00"), SATURDAY, [("r-1", "stop")]),
        (resource(State.RUNNING, "start-only mon-fri 08:00-19:00"), SATURDAY, []),
        (resource(State.STOPPED, "start-only mon-fri 08:00-19:00"), MONDAY, [("r-1", "start")]),
        (resource(State.RUNNING, hibernate=True), SATURDAY, [("r-1", "hibernate")]),
        (resource(State.RUNNING, kind=RDS_INSTANCE, hibernate=True), SATURDAY, [("r-1", "stop")]),
        # an active override wins over the schedule and the mode
        (resource(State.STOPPED, "stop-only mon-fri 08:00-19:00",
                  ScheduleOverride="on until 2026-11-28T18:00Z"), SATURDAY, [("r-1", "start")]),
    ],
)
def test_plans_only_the_difference(res: Resource, now: datetime,
                                   expected: list[tuple[str, str]]) -> None:
    plan = plan_resources([res], CONFIG, now)
    assert [(a.resource, a.action) for a in plan.actions] == expected
    assert plan.invalid == []


def test_transitional_state_is_skipped_with_the_reason() -> None:
    plan = plan_resources([resource(State.TRANSITIONING)], CONFIG, SATURDAY)
    assert plan.actions == []
    ((action, note),) = plan.skipped
    assert action.action == "stop"
    assert note == "in transition (transitioning): the next run acts on the state it settles in"


def test_unsupported_is_reported_only_when_a_change_is_due() -> None:
    spot = resource(State.RUNNING, unsupported="spot instances cannot be stopped")
    assert plan_resources([spot], CONFIG, MONDAY).skipped == []
    (skipped,) = plan_resources([spot], CONFIG, SATURDAY).skipped
    assert skipped[0].action == "stop"
    assert skipped[1] == "spot instances cannot be stopped"


def test_reasons_name_the_schedule_and_holiday() -> None:
    plan = plan_resources([resource(State.RUNNING, "mon-fri 08:00-19:00 holidays:2026-11-23")],
                          CONFIG, MONDAY)
    assert plan.actions[0].reason == (
        "holiday 2026-11-23 in 'mon-fri 08:00-19:00 holidays:2026-11-23'")
    plan = plan_resources([resource(State.RUNNING)], CONFIG, SATURDAY)
    assert plan.actions[0].reason == "outside 'mon-fri 08:00-19:00'"


def test_invalid_tags_leave_the_resource_untouched() -> None:
    plan = plan_resources([resource(State.RUNNING, "whenever"),
                           resource(State.RUNNING, ScheduleOverride="on")], CONFIG, SATURDAY)
    assert plan.actions == []
    reasons = [action.reason for action, _ in plan.invalid]
    assert reasons[0].startswith("invalid Schedule tag 'whenever': unknown word 'whenever'")
    assert reasons[1].startswith("invalid ScheduleOverride tag 'on': expected 'on until <time>'")
