from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instance_scheduler.last_action import LastAction, Verb, last_action, parse_last_action
from instance_scheduler.override import OverrideError, parse_override
from instance_scheduler.schedule import Mode, Period, Schedule, ScheduleError, parse_schedule
from instance_scheduler.settings import SchedulerConfig

UTC_ZONE = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
# RDS tag values: Unicode letters, digits, white space, and _ . : / = + - @
RDS_TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]*$")


def parse(text: str) -> object:
    return parse_schedule(text, default_timezone=UTC_ZONE)


def at(text: str, when: str, tz: ZoneInfo = UTC_ZONE) -> bool:
    instant = datetime.fromisoformat(when)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=tz)
    return parse_schedule(text, default_timezone=UTC_ZONE).wants_running(instant)


# 2026-11-23 is a Monday.
@pytest.mark.parametrize(
    ("text", "when", "running"),
    [
        ("mon-fri 08:00-19:00", "2026-11-23T08:00", True),
        ("mon-fri 08:00-19:00", "2026-11-23T07:59", False),
        ("mon-fri 08:00-19:00", "2026-11-23T19:00", False),  # end is exclusive
        ("mon-fri 08:00-19:00", "2026-11-28T12:00", False),  # Saturday
        ("MON-FRI 08:00-19:00 utc", "2026-11-23T12:00", True),  # case-insensitive words
        ("08:00-19:00", "2026-11-29T12:00", True),  # no days = every day
        ("weekdays 08:00-19:00", "2026-11-29T12:00", False),
        ("weekends 10:00-16:00", "2026-11-29T12:00", True),
        ("daily 00:00-24:00", "2026-11-29T23:59", True),
        ("mon+wed+fri 09:00-17:00", "2026-11-24T10:00", False),  # Tuesday
        ("mon+wed+fri 09:00-17:00", "2026-11-25T10:00", True),
        ("fri-mon 09:00-17:00", "2026-11-29T10:00", True),  # wraps over the weekend
        ("fri-mon 09:00-17:00", "2026-11-25T10:00", False),
        ("mon-fri 08:00-12:00 13:00-18:00", "2026-11-23T12:30", False),  # lunch break
        ("mon-fri 08:00-12:00 13:00-18:00", "2026-11-23T13:30", True),
        ("mon-fri 08:00-19:00 sat 09:00-13:00", "2026-11-28T10:00", True),
        ("mon-fri 08:00-19:00 sat 09:00-13:00", "2026-11-28T14:00", False),
        # Overnight: days are the start day; Friday night runs into Saturday morning.
        ("mon-fri 22:00-06:00", "2026-11-27T23:00", True),
        ("mon-fri 22:00-06:00", "2026-11-28T05:59", True),
        ("mon-fri 22:00-06:00", "2026-11-28T23:00", False),
        ("mon-fri 22:00-06:00", "2026-11-23T05:00", False),  # Monday morning: Sunday is off
        ("mon-fri 08:00-19:00 Europe/Paris", "2026-11-23T07:30+00:00", True),  # 08:30 Paris
        ("mon-fri 08:00-19:00 Europe/Paris", "2026-11-23T18:30+00:00", False),  # 19:30 Paris
        ("mon-fri 08:00-19:00 holidays:2026-12-25+2027-01-01", "2026-12-25T10:00", False),
        ("mon-fri 08:00-19:00 holidays:2026-12-25+2027-01-01", "2026-12-24T10:00", True),
    ],
)
def test_grammar(text: str, when: str, running: bool) -> None:
    assert at(text, when) is running


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the schedule is empty"),
        ("mon-fri", "days 'mon-fri' have no time range"),
        ("mon-fri sat 08:00-10:00", "days 'mon-fri' have no time range"),
        ("mon-fri 8h-19h", "unknown word '8h-19h'"),
        ("mon-fri 08:00-19:00;sat", "unknown word '08:00-19:00;sat'"),
        ("mon,tue 08:00-19:00", "unknown word 'mon,tue'"),
        ("25:00-26:00", "'25:00-26:00' is not a time range"),
        ("08:60-09:00", "'08:60-09:00' is not a time range"),
        ("24:00-08:00", "'24:00-08:00' is not a time range"),
        ("08:00-08:00", "'08:00-08:00' starts and ends at the same time"),
        ("00:00-24:00 UTC Europe/Paris", "more than one time zone ('Europe/Paris')"),
        ("08:00-10:00 Mars/Olympus", "'Mars/Olympus' is not a known time zone"),
        ("08:00-10:00 holidays:2026-02-30", "'2026-02-30' in 'holidays:2026-02-30' is not a date"),
        ("UTC", "no time range"),
        ("stop-only", "no time range"),
        ("enforced", "no time range"),
        ("mon-fri enforced 08:00-19:00", "'enforced' must come first"),
        ("start-only stop-only 08:00-19:00", "more than one mode ('start-only' and 'stop-only')"),
    ],
)
def test_invalid_schedules_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["mon-fri 08:00-19:00 Europe/Paris", "mon+wed+fri 22:00-06:00 America/New_York",
     "enforced stop-only office-hours", "stopped@2026-12-07T19:00Z",
     "stop-only weekdays 07:30-18:45 UTC holidays:2026-12-25+2026-12-26", "office-hours",
     "start-only sat-sun 10:00-24:00 Asia/Kolkata"],
)
def test_grammar_fits_rds_tag_values(text: str) -> None:
    assert RDS_TAG_VALUE.match(text)
    assert len(text) <= 256


def test_named_schedules_and_modes() -> None:
    office = parse_schedule("mon-fri 08:00-19:00 Europe/Paris holidays:2026-12-25",
                            default_timezone=UTC_ZONE)
    named = {"office-hours": office}
    schedule = parse_schedule("office-hours", default_timezone=UTC_ZONE, named=named)
    assert schedule.periods == office.periods
    assert schedule.timezone == PARIS
    assert schedule.holidays == {date(2026, 12, 25)}
    assert schedule.mode is Mode.BOTH
    stop_only = parse_schedule("stop-only office-hours", default_timezone=UTC_ZONE, named=named)
    assert stop_only.mode is Mode.STOP_ONLY
    with pytest.raises(ScheduleError, match="named schedule 'office-hours' must be used alone"):
        parse_schedule("office-hours Europe/Paris", default_timezone=UTC_ZONE, named=named)


def test_default_timezone_applies_when_none_is_named() -> None:
    schedule = parse_schedule("09:00-17:00", default_timezone=PARIS)
    assert schedule.timezone == PARIS
    assert schedule.wants_running(datetime(2026, 11, 23, 8, 30, tzinfo=UTC))  # 09:30 in Paris


class TestDaylightSaving:
    """Europe/Paris: 2026-03-29 02:00 -> 03:00 (spring forward), 2026-10-25 03:00 -> 02:00."""

    def test_spring_forward_period_starting_in_the_skipped_hour_starts_at_the_jump(self) -> None:
        schedule = parse_schedule("02:30-05:00 Europe/Paris", default_timezone=UTC_ZONE)
        # 00:59 UTC = 01:59 CET: before. 01:00 UTC = 03:00 CEST: inside (02:30 never happens).
        assert not schedule.wants_running(datetime(2026, 3, 29, 0, 59, tzinfo=UTC))
        assert schedule.wants_running(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
        # 05:00 CEST = 03:00 UTC: the period ends on the local wall clock.
        assert schedule.wants_running(datetime(2026, 3, 29, 2, 59, tzinfo=UTC))
        assert not schedule.wants_running(datetime(2026, 3, 29, 3, 0, tzinfo=UTC))

    def test_office_hours_follow_the_wall_clock_across_the_change(self) -> None:
        schedule = parse_schedule("08:00-19:00 Europe/Paris", default_timezone=UTC_ZONE)
        # Saturday (CET, UTC+1): starts 07:00 UTC. Sunday (CEST, UTC+2): starts 06:00 UTC.
        assert not schedule.wants_running(datetime(2026, 3, 28, 6, 30, tzinfo=UTC))
        assert schedule.wants_running(datetime(2026, 3, 29, 6, 30, tzinfo=UTC))
        assert not schedule.wants_running(datetime(2026, 3, 29, 17, 0, tzinfo=UTC))

    def test_fall_back_repeated_hour_is_inside_both_times(self) -> None:
        schedule = parse_schedule("02:00-03:00 Europe/Paris", default_timezone=UTC_ZONE)
        # 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
        assert schedule.wants_running(datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
        assert schedule.wants_running(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
        assert not schedule.wants_running(datetime(2026, 10, 25, 2, 0, tzinfo=UTC))  # 03:00 CET
        assert not schedule.wants_running(datetime(2026, 10, 24, 23, 59, tzinfo=UTC))  # 01:59

    def test_fall_back_boundaries_inside_the_repeated_hour_fire_once(self) -> None:
        starts = parse_schedule("02:30-06:00 Europe/Paris", default_timezone=UTC_ZONE)
        ends = parse_schedule("00:00-02:30 Europe/Paris", default_timezone=UTC_ZONE)
        day = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)  # 02:00 CEST
        samples = [day + timedelta(minutes=m) for m in range(0, 6 * 60, 5)]
        # Starts at the first 02:30 (00:30 UTC) and never flaps until 06:00 CET (05:00 UTC).
        assert [t for t in samples if starts.wants_running(t)] == [
            t for t in samples if datetime(2026, 10, 25, 0, 30, tzinfo=UTC) <= t
            < datetime(2026, 10, 25, 5, 0, tzinfo=UTC)]
        # Ends at the first 02:30 and does not come back when 02:00 repeats.
        assert [t for t in samples if ends.wants_running(t)] == [
            t for t in samples if t < datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]

    def test_overnight_period_across_fall_back_lasts_an_hour_longer(self) -> None:
        schedule = parse_schedule("sat 22:00-06:00 Europe/Paris", default_timezone=UTC_ZONE)
        start = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # 22:00 CEST
        minutes = [start + timedelta(minutes=m) for m in range(0, 12 * 60, 5)]
        running = sum(schedule.wants_running(t) for t in minutes) * 5
        assert running == 9 * 60  # 22:00 CEST -> 06:00 CET is 9 real hours


def test_overnight_period_starting_on_a_holiday_does_not_run() -> None:
    schedule = parse_schedule("22:00-06:00 holidays:2026-12-25", default_timezone=UTC_ZONE)
    assert schedule.wants_running(datetime(2026, 12, 24, 23, 0, tzinfo=UTC))
    assert not schedule.wants_running(datetime(2026, 12, 25, 1, 0, tzinfo=UTC))  # the holiday
    assert not schedule.wants_running(datetime(2026, 12, 25, 23, 0, tzinfo=UTC))
    assert not schedule.wants_running(datetime(2026, 12, 26, 3, 0, tzinfo=UTC))  # its tail
    assert schedule.wants_running(datetime(2026, 12, 26, 23, 0, tzinfo=UTC))


def test_holidays_are_local_dates() -> None:
    schedule = parse_schedule("00:00-24:00 Asia/Tokyo holidays:2026-12-25",
                              default_timezone=UTC_ZONE)
    # 2026-12-24T16:00Z is already the 25th in Tokyo.
    assert schedule.wants_running(datetime(2026, 12, 24, 14, 59, tzinfo=UTC))
    assert not schedule.wants_running(datetime(2026, 12, 24, 15, 0, tzinfo=UTC))


# ---------------------------------------------------------------- period arithmetic properties
minutes = st.integers(min_value=0, max_value=24 * 60 - 1)
weekdays = st.integers(min_value=0, max_value=6)
day_sets = st.frozensets(weekdays, min_size=1)


@given(start=minutes, end=minutes, weekday=weekdays, minute=minutes)
def test_a_range_and_its_complement_partition_every_day(start: int, end: int, weekday: int,
                                                        minute: int) -> None:
    if start == end:
        return
    every_day = frozenset(range(7))
    inside = Period(every_day, start, end).contains(weekday, minute)
    outside = Period(every_day, end, start).contains(weekday, minute)
    assert inside != outside


@given(days=day_sets, start=minutes, end=minutes, weekday=weekdays, minute=minutes)
def test_overnight_is_evening_plus_next_morning(days: frozenset[int], start: int, end: int,
                                                 weekday: int, minute: int) -> None:
    if not end < start:
        return
    overnight = Period(days, start, end)
    evening = Period(days, start, 24 * 60)
    next_morning = Period(frozenset((d + 1) % 7 for d in days), 0, end)
    assert overnight.contains(weekday, minute) == (
        evening.contains(weekday, minute) or next_morning.contains(weekday, minute))


@given(days=day_sets, start=minutes, length=st.integers(min_value=1, max_value=24 * 60 - 1))
def test_running_minutes_per_week_equal_length_times_days(days: frozenset[int], start: int,
                                                          length: int) -> None:
    end = (start + length) % (24 * 60) or 24 * 60
    period = Period(days, start, end)
    total = sum(period.contains(d, m) for d in range(7) for m in range(0, 24 * 60, 1))
    assert total == length * len(days)


# ---------------------------------------------------------------- override tag
def test_override_parses_and_expires() -> None:
    override = parse_override("on until 2026-12-01T18:00Z")
    assert override.running is True
    assert override.describe() == "on until 2026-12-01T18:00:00Z"
    assert override.active_at(datetime(2026, 12, 1, 17, 59, tzinfo=UTC))
    assert not override.active_at(datetime(2026, 12, 1, 18, 0, tzinfo=UTC))
    assert parse_override("OFF until 2026-12-01T18:00+01:00").running is False


def test_a_permanent_override_has_no_end() -> None:
    """`on` / `off` alone, as AWS Instance Scheduler's override_status: until a person removes
    the tag."""
    override = parse_override("On")
    assert (override.running, override.until) == (True, None)
    assert override.active_at(datetime(2126, 1, 1, tzinfo=UTC))
    assert override.describe() == "on (permanent)"
    assert parse_override(" off ").running is False


@pytest.mark.parametrize(
    ("text", "message"),
    [("on until", "expected 'on until <time>'"),
     ("maybe until 2026-12-01T18:00Z", "expected 'on until <time>'"),
     ("on until tomorrow", "'tomorrow' is not an ISO 8601 time"),
     ("on until 2026-12-01T18:00", "has no time zone")],
)
def test_bad_overrides(text: str, message: str) -> None:
    with pytest.raises(OverrideError, match=re.escape(message)):
        parse_override(text)


# ---------------------------------------------------------------- enforced, and transitions
def test_enforced_is_a_leading_word_and_a_named_schedule_option() -> None:
    assert parse_schedule("enforced mon-fri 08:00-19:00", default_timezone=UTC_ZONE).enforced
    assert not parse_schedule("mon-fri 08:00-19:00", default_timezone=UTC_ZONE).enforced
    office = parse_schedule("mon-fri 08:00-19:00", default_timezone=UTC_ZONE)
    both = parse_schedule("stop-only enforced office-hours", default_timezone=UTC_ZONE,
                          named={"office-hours": office})
    assert (both.mode, both.enforced) == (Mode.STOP_ONLY, True)
    config = SchedulerConfig.from_env({"SCHEDULES": json.dumps({
        "strict": {"schedule": "mon-fri 08:00-19:00", "enforced": True},
        "worded": "enforced mon-fri 08:00-19:00", "loose": "mon-fri 08:00-19:00"})})
    assert {name: s.enforced for name, s in config.schedules.items()} == {
        "strict": True, "worded": True, "loose": False}
    with pytest.raises(ValueError, match=r"'strict': enforced as true or false"):
        SchedulerConfig.from_env({"SCHEDULES": '{"strict": {"schedule": "08:00-09:00", '
                                               '"enforced": "yes"}}'})


def _scan(schedule: Schedule, instant: datetime, step: int, days: int) -> datetime | None:
    """The first change minute by minute from `instant`, backwards (step -1) or forwards."""
    probe = instant.replace(second=0, microsecond=0) + timedelta(minutes=max(step, 0))
    for _ in range(days * 24 * 60):
        if schedule.changes_at(probe):
            return probe
        probe += timedelta(minutes=step)
    return None


@pytest.mark.parametrize("text", [
    "mon-fri 08:00-19:00 Europe/Paris", "02:30-05:00 Europe/Paris", "00:00-02:30 Europe/Paris",
    "01:00-04:00 Europe/Paris", "02:15-02:45 Europe/Paris", "fri-sun 22:00-06:00 Europe/Paris",
    "08:00-08:05", "22:00-06:00 America/New_York", "00:00-12:00 Australia/Lord_Howe",
])
@pytest.mark.parametrize("when", [
    "2026-03-28T23:30:00+00:00", "2026-03-29T01:10:00+00:00", "2026-03-29T05:00:00+00:00",
    "2026-10-25T00:45:00+00:00", "2026-10-25T01:30:00+00:00", "2026-10-25T04:59:30+00:00",
    "2026-04-05T14:00:00+00:00", "2026-11-23T07:59:00+00:00",
])
def test_last_and_next_change_are_the_minute_the_wanted_state_flips(text: str,
                                                                     when: str) -> None:
    """Against a minute-by-minute scan, across both daylight saving changes of Paris, New York
    (weeks apart) and Lord Howe (a half-hour change)."""
    schedule = parse_schedule(text, default_timezone=UTC_ZONE)
    instant = datetime.fromisoformat(when)
    assert schedule.last_change(instant) == _scan(schedule, instant, -1, 5)
    assert schedule.next_change(instant) == _scan(schedule, instant, 1, 5)


def test_holidays_and_constant_schedules() -> None:
    christmas = parse_schedule("mon-fri 08:00-19:00 holidays:2026-12-24+2026-12-25",
                               default_timezone=UTC_ZONE)
    # Wednesday 23rd 19:00 was the last change; the next is Monday 28th 08:00.
    at_noon = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    assert christmas.last_change(at_noon) == datetime(2026, 12, 23, 19, 0, tzinfo=UTC)
    assert christmas.next_change(at_noon) == datetime(2026, 12, 28, 8, 0, tzinfo=UTC)
    always = parse_schedule("00:00-24:00", default_timezone=UTC_ZONE)
    assert always.last_change(at_noon) is None
    assert always.next_change(at_noon) is None


def test_the_last_action_tag_reads_back_what_it_wrote() -> None:
    written = last_action(Verb.STOPPED, datetime(2026, 12, 7, 19, 0, 42, tzinfo=UTC))
    assert written.value() == "stopped@2026-12-07T19:00Z"
    assert parse_last_action(written.value()) == written
    assert parse_last_action("found-running@2026-12-07T08:05Z") == LastAction(
        Verb.FOUND_RUNNING, datetime(2026, 12, 7, 8, 5, tzinfo=UTC))
    for garbage in (None, "", "stopped", "paused@2026-12-07T19:00Z",
                    "stopped@2026-13-07T19:00Z", "stopped@2026-12-07T19:00"):
        assert parse_last_action(garbage) is None
