"""docs/instance_scheduler.md's migration tables, row by row: each opskit value is parsed and its
wanted state and transitions are checked where the peer's documented behaviour decides.

The expectations are written from AWS Instance Scheduler's period reference (every condition of a
period holds; `mon#1`, `friL`, `15W`, `L`, `1/7`, `jan/3`; adjacent periods bridged) and from
Cloud Custodian's offhours (`on=` starts, `off=` stops, on the days named, in `tz`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from instance_scheduler.schedule import Mode, Schedule, parse_schedule

DOC = Path(__file__).resolve().parents[2] / "docs" / "instance_scheduler.md"
UTC_ZONE = ZoneInfo("UTC")


def table(heading: str) -> dict[str, str]:
    """The rows (peer -> opskit value) of the table that follows `heading` in the docs."""
    text = DOC.read_text().split(heading, 1)[1]
    rows = re.findall(r"^\| (.+?) \| `([^`]+)` \|$", text.split("\n\n|", 1)[1].split("\n\n")[0],
                      re.MULTILINE)
    return {peer: value for peer, value in rows if not peer.startswith("---")}


IS_ROWS = table("**AWS Instance Scheduler periods.**")
CUSTODIAN_ROWS = table("**Cloud Custodian offhours.**")

# value -> (local instant, wanted running) as the peer behaves; times in the value's zone.
IS_EXPECTED: dict[str, list[tuple[str, bool]]] = {
    "mon-fri 09:00-17:00": [("2026-12-07T09:00", True), ("2026-12-07T17:00", False),
                            ("2026-12-12T10:00", False)],
    "weekdays:0-4 09:00-17:00 Europe/London": [("2026-12-11T16:59", True),
                                               ("2026-12-13T10:00", False)],
    "mon.1 08:00-18:00": [("2026-12-07T08:00", True), ("2026-12-14T08:00", False),
                          ("2027-02-01T12:00", True)],  # 2027-02-01 is the first Monday
    "friL 18:00-23:00": [("2026-12-25T18:00", True), ("2026-12-18T18:00", False),
                         ("2027-01-29T22:59", True)],
    "sat-sun 00:00-24:00": [("2026-12-12T00:00", True), ("2026-12-13T23:59", True),
                            ("2026-12-14T00:00", False)],
    "monthdays:15W 08:00-12:00": [("2026-11-16T08:00", True), ("2026-11-13T08:00", False),
                                  ("2026-12-15T08:00", True)],  # a Tuesday: itself
    "monthdays:L 20:00-23:59": [("2026-02-28T20:00", True), ("2026-02-28T23:59", False),
                                ("2026-02-27T20:00", False), ("2026-04-30T21:00", True)],
    "monthdays:1/7 06:00-07:00": [("2026-12-29T06:00", True), ("2026-12-30T06:00", False)],
    "months:jan-mar mon-fri 08:00-18:00": [("2027-03-31T08:00", True),
                                           ("2027-04-01T08:00", False),
                                           ("2027-01-02T08:00", False)],  # a Saturday
    "jan/3 monthdays:1 08:00-18:00": [("2027-04-01T08:00", True), ("2027-05-01T08:00", False),
                                      ("2027-10-01T17:59", True)],
    "mon-fri 08:00-18:00@m5.large": [("2026-12-07T08:00", True), ("2026-12-07T18:00", False)],
    "mon 09:00-23:59 tue-thu 00:00-23:59 fri 00:00-17:00": [
        ("2026-12-07T08:59", False), ("2026-12-07T23:59", True), ("2026-12-09T23:59", True),
        ("2026-12-11T16:59", True), ("2026-12-11T17:00", False)],
}
# value -> (zone, starts, stops) within the week of Monday 2026-12-07, as Custodian acts.
CUSTODIAN_EXPECTED: dict[str, tuple[str, list[str], list[str]]] = {
    "mon-fri 07:00-19:00 America/New_York": (
        "America/New_York", [f"2026-12-{d:02}T07:00" for d in range(7, 12)],
        [f"2026-12-{d:02}T19:00" for d in range(7, 12)]),
    "mon-fri 08:00-18:00 America/Los_Angeles": (
        "America/Los_Angeles", [f"2026-12-{d:02}T08:00" for d in range(7, 12)],
        [f"2026-12-{d:02}T18:00" for d in range(7, 12)]),
    "mon-fri 06:00-21:00 sun 10:00-18:00 America/Los_Angeles": (
        "America/Los_Angeles",
        [f"2026-12-{d:02}T06:00" for d in range(7, 12)] + ["2026-12-13T10:00"],
        [f"2026-12-{d:02}T21:00" for d in range(7, 12)] + ["2026-12-13T18:00"]),
    "mon-thu 08:00-20:00 UTC": (
        "UTC", [f"2026-12-{d:02}T08:00" for d in range(7, 11)],
        [f"2026-12-{d:02}T20:00" for d in range(7, 11)]),
    "stop-only mon-fri 00:00-18:00 America/Chicago": (
        "America/Chicago", [], [f"2026-12-{d:02}T18:00" for d in range(7, 12)]),
    "start-only mon-fri 08:00-24:00 America/Chicago": (
        "America/Chicago", [f"2026-12-{d:02}T08:00" for d in range(7, 12)], []),
}


def test_every_row_of_the_tables_is_checked() -> None:
    assert sorted(IS_ROWS.values()) == sorted(IS_EXPECTED)
    assert sorted(CUSTODIAN_ROWS.values()) == sorted(CUSTODIAN_EXPECTED)


def zone_of(schedule: Schedule) -> ZoneInfo:
    return schedule.timezone


@pytest.mark.parametrize("value", sorted(IS_EXPECTED))
def test_instance_scheduler_periods(value: str) -> None:
    schedule = parse_schedule(value, default_timezone=UTC_ZONE)
    for when, running in IS_EXPECTED[value]:
        instant = datetime.fromisoformat(when).replace(tzinfo=zone_of(schedule))
        assert schedule.wants_running(instant) is running, (value, when)
        # Instance Scheduler's `<period>@<type>`: the type of the period running then.
        expected_type = value.split("@", 1)[1].split(maxsplit=1)[0] if "@" in value and running \
            else None
        assert schedule.instance_type_at(instant) == expected_type, (value, when)


def acted(schedule: Schedule, start: datetime, end: datetime) -> tuple[list[str], list[str]]:
    """The starts and stops the scheduler makes between two instants, as local times: each
    transition the schedule's mode acts on."""
    starts: list[str] = []
    stops: list[str] = []
    instant = start
    while (change := schedule.next_change(instant)) is not None and change < end:
        local = change.astimezone(schedule.timezone).strftime("%Y-%m-%dT%H:%M")
        if schedule.wants_running(change):
            if schedule.mode is not Mode.STOP_ONLY:
                starts.append(local)
        elif schedule.mode is not Mode.START_ONLY:
            stops.append(local)
        instant = change
    return starts, stops


@pytest.mark.parametrize("value", sorted(CUSTODIAN_EXPECTED))
def test_custodian_offhours(value: str) -> None:
    zone, starts, stops = CUSTODIAN_EXPECTED[value]
    schedule = parse_schedule(value, default_timezone=UTC_ZONE)
    assert schedule.timezone == ZoneInfo(zone)
    week = datetime(2026, 12, 7, tzinfo=ZoneInfo(zone))
    assert acted(schedule, week, datetime(2026, 12, 14, tzinfo=ZoneInfo(zone))) == (
        starts, stops)


def test_bridged_adjacent_periods_act_once_a_week() -> None:
    """Instance Scheduler's Monday-to-Friday as three adjacent periods: one start, one stop."""
    value = IS_ROWS[next(peer for peer in IS_ROWS if peer.startswith("periods "))]
    schedule = parse_schedule(value, default_timezone=UTC_ZONE)
    monday = datetime(2026, 12, 7, tzinfo=UTC)
    assert acted(schedule, monday, datetime(2026, 12, 14, tzinfo=UTC)) == (
        ["2026-12-07T09:00"], ["2026-12-11T17:00"])
