"""The planner is pure: resources, tags and a time in, actions out (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from instance_scheduler.inventory import (
    EC2_INSTANCE,
    RDS_INSTANCE,
    Resource,
    State,
    needs_a_person,
)
from instance_scheduler.planner import (
    RECORD_RUNNING,
    RECORD_STARTED_EARLY,
    RECORDS,
    plan_resources,
)
from instance_scheduler.settings import SchedulerConfig
from opskit.actions import Plan

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
    # (a resource never acted on and already right is recorded: see the transition tests)
    assert [(a.resource, a.action) for a in plan.actions
            if a.action not in RECORDS] == expected
    assert plan.failed == []


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
                           resource(State.RUNNING, ScheduleOverride="on until")], CONFIG,
                          SATURDAY)
    assert plan.actions == []
    reasons = [action.reason for action, _ in plan.failed]
    assert reasons[0].startswith("invalid Schedule tag 'whenever': unknown word 'whenever'")
    assert reasons[1].startswith("invalid ScheduleOverride tag 'on until': expected 'on until "
                                 "<time>'")


def test_a_permanent_override_wins_at_every_run() -> None:
    plan = plan_resources([resource(State.RUNNING, ScheduleOverride="on")], CONFIG, SATURDAY)
    assert [(a.action, a.reason) for a in plan.actions] == []  # running, as the override says
    plan = plan_resources([resource(State.STOPPED, ScheduleOverride="ON")], CONFIG, SATURDAY)
    assert [(a.action, a.reason) for a in plan.actions] == [
        ("start", "override 'on (permanent)'")]


# ---------------------------------------------------------------- transitions (issue 21)
FRIDAY_EVENING = datetime(2026, 11, 27, 19, 5, tzinfo=UTC)
MONDAY_MORNING = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)


def acted(state: State, last: str | None, *, kind: str = EC2_INSTANCE,
          schedule: str = "mon-fri 08:00-19:00", **tags: str) -> Resource:
    recorded = {"opskit:scheduler-last": last} if last is not None else {}
    return Resource("r-1", kind, state, {"Schedule": schedule, **recorded, **tags},
                    raw_state=str(state))


def planned(plan: Plan) -> list[str]:
    return [a.action for a in plan.actions]


def test_a_resource_never_acted_on_gets_the_last_transition() -> None:
    assert planned(plan_resources([acted(State.RUNNING, None)], CONFIG, SATURDAY)) == ["stop"]
    assert planned(plan_resources([acted(State.STOPPED, None)], CONFIG, SATURDAY)) == [
        "record-stopped"]


def test_a_change_by_hand_after_the_last_transition_is_left_alone() -> None:
    started_by_hand = acted(State.RUNNING, "stopped@2026-11-27T19:05Z")
    plan = plan_resources([started_by_hand], CONFIG, SATURDAY)
    assert plan.actions == []
    ((action, note),) = plan.skipped
    assert action.action == "stop"
    assert note.startswith("started by hand since opskit's last action "
                           "(stopped@2026-11-27T19:05Z): left alone until the schedule's next "
                           "change at 2026-11-30T08:00Z")
    # enforced, by the schedule or the stack: set back at every run, as before
    assert planned(plan_resources([acted(State.RUNNING, "stopped@2026-11-27T19:05Z",
                                         schedule="enforced mon-fri 08:00-19:00")],
                                  CONFIG, SATURDAY)) == ["stop"]
    enforcing = SchedulerConfig.from_env({"AWS_REGION": "eu-west-1",
                                          "ENFORCE_SCHEDULES": "true"})
    assert planned(plan_resources([started_by_hand], enforcing, SATURDAY)) == ["stop"]


def test_a_transition_later_than_the_last_action_is_applied_or_recorded() -> None:
    # Friday's stop recorded; Monday 08:00 has passed since (a missed run is repaired too).
    assert planned(plan_resources([acted(State.STOPPED, "stopped@2026-11-27T19:05Z")], CONFIG,
                                  MONDAY_MORNING)) == ["start"]
    # Running at the start although opskit had stopped it: started by hand before the period.
    assert planned(plan_resources([acted(State.RUNNING, "stopped@2026-11-27T19:05Z")], CONFIG,
                                  MONDAY_MORNING)) == ["record-started-early"]
    # An unreadable last action counts as none.
    assert planned(plan_resources([acted(State.STOPPED, "stopped yesterday")], CONFIG,
                                  MONDAY_MORNING)) == ["start"]


def test_the_end_of_an_override_is_a_transition() -> None:
    during = acted(State.RUNNING, "started@2026-11-28T10:00Z",
                   ScheduleOverride="on until 2026-11-28T11:00Z")
    assert planned(plan_resources([during], CONFIG, SATURDAY)) == ["remove-override", "stop"]


@pytest.mark.parametrize(("last", "expected"), [
    ("stopped@2026-11-20T19:05Z", ["stop"]),  # 7 days and more: AWS's automatic start
    ("stopped@2026-11-25T19:05Z", []),  # 3 days: a person started it
])
def test_a_database_found_running_seven_days_after_opskit_stopped_it(
        last: str, expected: list[str]) -> None:
    """Holidays keep it stopped from 2026-11-20 19:00 to 2026-12-07 08:00."""
    holidays = "+".join(f"2026-11-{day}" for day in (23, 24, 25, 26, 27, 30)) + "+" + "+".join(
        f"2026-12-0{day}" for day in range(1, 5))
    database = acted(State.RUNNING, last, kind=RDS_INSTANCE,
                     schedule=f"mon-fri 08:00-19:00 holidays:{holidays}")
    plan = plan_resources([database], CONFIG, SATURDAY)
    assert planned(plan) == expected
    if expected:
        assert "taken to be AWS's start after 7 days stopped" in plan.actions[0].details[
            "restarted_by_aws"]
    else:
        assert plan.skipped[0][1].startswith("started by hand")


def test_a_database_that_needs_a_person_is_reported_whatever_the_schedule() -> None:
    lost = Resource("db-1", RDS_INSTANCE, State.TRANSITIONING, {"Schedule": "mon-fri 08:00-19:00"},
                    raw_state="inaccessible-encryption-credentials",
                    needs_a_person=needs_a_person("inaccessible-encryption-credentials"))
    plan = plan_resources([lost], CONFIG, MONDAY)
    ((action, note),) = plan.critical
    assert (action.action, action.details["state"]) == (
        "check-state", "inaccessible-encryption-credentials")
    assert "KMS key" in note
    assert needs_a_person("available") is None
    assert needs_a_person("backing-up") is None


# ---------------------------------------------------------------- AWS Instance Scheduler options
MONDAY_EVENING = datetime(2026, 11, 23, 19, 5, tzinfo=UTC)  # just after the 19:00 stop


def actions(res: Resource, now: datetime) -> list[tuple[str, str]]:
    return [(a.action, a.reason) for a in plan_resources([res], CONFIG, now).actions]


def test_retain_running_spares_what_a_person_started_before_the_period() -> None:
    """Stopped by the scheduler at 19:00, started by hand before 08:00: the 08:00 start records
    it as started early, and the 19:00 stop leaves it running (that period only)."""
    schedule = "retain-running mon-fri 08:00-19:00"
    stopped = {"opskit:scheduler-last": "stopped@2026-11-20T19:00Z"}
    morning = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)
    assert [a for a, _ in actions(resource(State.RUNNING, schedule, **stopped), morning)] == [
        RECORD_STARTED_EARLY]
    early = {"opskit:scheduler-last": "found-started-early@2026-11-23T08:05Z"}
    assert actions(resource(State.RUNNING, schedule, **early), MONDAY_EVENING) == [
        (RECORD_RUNNING, "outside 'retain-running mon-fri 08:00-19:00'; started by hand before "
                         "its period began at 2026-11-23T08:00Z: left running (retain-running)")]
    # Recorded at 19:00 as found running: the next period's end stops it.
    kept = {"opskit:scheduler-last": "found-running@2026-11-23T19:05Z"}
    tuesday = datetime(2026, 11, 24, 8, 5, tzinfo=UTC)
    assert [a for a, _ in actions(resource(State.RUNNING, schedule, **kept), tuesday)] == [
        RECORD_RUNNING]
    # Found running when it was tagged, or after an override ended, or started by the
    # scheduler: stopped at the period's end as usual.
    for last in ("found-running@2026-11-23T12:00Z", "started@2026-11-23T08:00Z",
                 "found-started-early@2026-11-20T08:05Z"):
        tags = {"opskit:scheduler-last": last}
        assert [a for a, _ in actions(resource(State.RUNNING, schedule, **tags),
                                      MONDAY_EVENING)] == ["stop"], last
    # Without the word: stopped.
    assert [a for a, _ in actions(resource(State.RUNNING, **early), MONDAY_EVENING)] == ["stop"]


def test_no_stop_new_leaves_a_new_resource_running_until_the_next_stop() -> None:
    new = resource(State.RUNNING, "no-stop-new mon-fri 08:00-19:00")
    assert actions(new, SATURDAY) == [
        (RECORD_RUNNING, "outside 'no-stop-new mon-fri 08:00-19:00'; new and running: left "
                         "running until the next stop (no-stop-new)")]
    # Recorded on Saturday: the next stop (Monday 19:00) stops it.
    recorded = resource(State.RUNNING, "no-stop-new mon-fri 08:00-19:00",
                        **{"opskit:scheduler-last": "found-running@2026-11-28T12:00Z"})
    assert [a for a, _ in actions(recorded, SATURDAY)] == []
    assert [a for a, _ in actions(recorded, datetime(2026, 11, 30, 19, 5, tzinfo=UTC))] == [
        "stop"]
    # A last-action tag that cannot be read is not "new": stopped.
    unread = resource(State.RUNNING, "no-stop-new mon-fri 08:00-19:00",
                      **{"opskit:scheduler-last": "started@2026-11-23T08:00"})
    assert [a for a, _ in actions(unread, SATURDAY)] == ["stop"]
    # By default (as AWS Instance Scheduler's stop_new_instances), a new resource is stopped.
    assert [a for a, _ in actions(resource(State.RUNNING), SATURDAY)] == ["stop"]


def test_the_options_are_leading_words_and_named_schedule_settings() -> None:
    config = SchedulerConfig.from_env({"SCHEDULES": (
        '{"dev": {"schedule": "mon-fri 08:00-19:00", "retain_running": true, '
        '"stop_new_instances": false}}')})
    dev = config.schedules["dev"]
    assert (dev.retain_running, dev.stop_new) == (True, False)
    with pytest.raises(ValueError, match="'dev': retain_running as true or false"):
        SchedulerConfig.from_env({"SCHEDULES": (
            '{"dev": {"schedule": "08:00-09:00", "retain_running": "yes"}}')})
