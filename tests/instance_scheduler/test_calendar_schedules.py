"""Schedules with the calendar forms (nth and last weekdays, days of the month, months, steps),
yearly holidays and holiday calendars, one-minute gaps bridged, quoted values: evaluated across
month ends, leap days and daylight saving time changes, as wanted states and as transitions."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from instance_scheduler.schedule import Holidays, Schedule, ScheduleError, parse_schedule
from instance_scheduler.settings import SchedulerConfig

UTC_ZONE = ZoneInfo("UTC")
# RDS tag values: Unicode letters, digits, white space, and _ . : / = + - @
RDS_TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]*$")


def schedule(text: str, **kwargs: object) -> Schedule:
    return parse_schedule(text, default_timezone=UTC_ZONE, **kwargs)  # type: ignore[arg-type]


def local(when: str, zone: str = "UTC") -> datetime:
    return datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize(
    ("text", "when", "running"),
    [
        # The first Monday: 2026-12-07 (December starts on a Tuesday).
        ("mon#1 08:00-19:00", "2026-12-07T10:00", True),
        ("mon.1 08:00-19:00", "2026-12-07T10:00", True),
        ("mon#1 08:00-19:00", "2026-12-14T10:00", False),
        ("mon#1 08:00-19:00", "2026-11-30T10:00", False),  # the last Monday of November
        ("friL 18:00-23:00", "2026-12-25T19:00", True),
        ("friL 18:00-23:00", "2026-12-18T19:00", False),
        # The last day of the month, overnight into the 1st of the next.
        ("monthdays:L 22:00-06:00", "2026-02-28T23:00", True),
        ("monthdays:L 22:00-06:00", "2026-03-01T05:59", True),
        ("monthdays:L 22:00-06:00", "2026-03-01T23:00", False),
        ("monthdays:L 22:00-06:00", "2028-02-28T23:00", False),  # leap year: the 29th is last
        ("monthdays:L 22:00-06:00", "2028-02-29T23:00", True),
        ("monthdays:1-7 mon-fri 08:00-18:00", "2026-12-04T09:00", True),  # first Friday
        ("monthdays:1-7 mon-fri 08:00-18:00", "2026-12-05T09:00", False),  # a Saturday
        ("monthdays:1-7 mon-fri 08:00-18:00", "2026-12-08T09:00", False),  # the 8th
        ("monthdays:15W 08:00-12:00", "2026-11-16T09:00", True),  # Sunday 15th: Monday 16th
        ("monthdays:15W 08:00-12:00", "2026-11-15T09:00", False),
        ("monthdays:1/7 06:00-07:00", "2026-12-22T06:30", True),
        ("months:nov-feb mon-fri 08:00-18:00", "2027-01-04T09:00", True),
        ("months:nov-feb mon-fri 08:00-18:00", "2027-03-01T09:00", False),
        ("jan-mar 08:00-18:00", "2027-03-31T17:59", True),
        ("jan-mar 08:00-18:00", "2027-04-01T08:00", False),
        ("weekdays:0-4 08:00-18:00", "2026-12-07T09:00", True),  # numbers: 0 = Monday
        ("weekdays:0-4 08:00-18:00", "2026-12-06T09:00", False),
        # Two periods with their own days.
        ("mon#1 06:00-22:00 mon-fri 08:00-18:00", "2026-12-07T20:00", True),
        ("mon#1 06:00-22:00 mon-fri 08:00-18:00", "2026-12-08T20:00", False),
        # Yearly holidays, in any year; 02-29 only in leap years.
        ("mon-fri 08:00-19:00 holidays:12-25+01-01", "2026-12-25T10:00", False),
        ("mon-fri 08:00-19:00 holidays:12-25+01-01", "2031-12-25T10:00", False),
        ("mon-fri 08:00-19:00 holidays:12-25+01-01", "2026-12-24T10:00", True),
        ("08:00-19:00 holidays:02-29", "2028-02-29T10:00", False),
        ("08:00-19:00 holidays:02-29", "2027-02-28T10:00", True),
        # Quotes around the whole value, as some tools write it.
        ('"mon-fri 08:00-19:00"', "2026-12-07T10:00", True),
        ("'mon-fri 08:00-19:00'", "2026-12-07T07:00", False),
    ],
)
def test_calendar_forms(text: str, when: str, running: bool) -> None:
    assert schedule(text).wants_running(local(when)) is running


def test_the_last_sunday_of_march_across_the_clock_change() -> None:
    """2026-03-29, Europe/Paris: 02:00 becomes 03:00 on the last Sunday of March."""
    paris = schedule("sunL 01:00-05:00 Europe/Paris")
    assert paris.wants_running(local("2026-03-29T01:30", "Europe/Paris"))
    assert paris.wants_running(local("2026-03-29T03:30", "Europe/Paris"))
    assert not paris.wants_running(local("2026-03-29T05:00", "Europe/Paris"))
    assert not paris.wants_running(local("2026-03-22T01:30", "Europe/Paris"))
    # Four hours on the wall clock, three in real time.
    start = paris.last_change(local("2026-03-29T04:00", "Europe/Paris"))
    stop = paris.next_change(local("2026-03-29T04:00", "Europe/Paris"))
    assert start == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # 01:00 CET
    assert stop == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)  # 05:00 CEST


def test_the_first_monday_of_november_after_the_clock_goes_back() -> None:
    """America/New_York goes back on 2026-11-01; 2026-11-02 is the first Monday."""
    ny = schedule("mon#1 08:00-17:00 America/New_York")
    assert ny.last_change(local("2026-11-02T12:00", "America/New_York")) == datetime(
        2026, 11, 2, 13, 0, tzinfo=UTC)
    assert ny.next_change(local("2026-11-02T12:00", "America/New_York")) == datetime(
        2026, 11, 2, 22, 0, tzinfo=UTC)
    # The next start is the first Monday of December.
    assert ny.next_change(local("2026-11-02T18:00", "America/New_York")) == datetime(
        2026, 12, 7, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "gap", "running"),
    [
        # A period ending at 23:59 and the next one starting at 00:00: one minute, bridged.
        ("mon-fri 00:00-23:59", "2026-12-08T23:59", True),
        ("mon 09:00-23:59 tue-thu 00:00-23:59 fri 00:00-17:00", "2026-12-09T23:59", True),
        ("08:00-11:59 12:00-17:00", "2026-12-08T11:59", True),
        # No period after it: the stop at 23:59 is real.
        ("mon-fri 00:00-23:59", "2026-12-11T23:59", False),
        # Two minutes are not bridged.
        ("08:00-11:58 12:00-17:00", "2026-12-08T11:59", False),
    ],
)
def test_a_one_minute_gap_is_bridged(text: str, gap: str, running: bool) -> None:
    assert schedule(text).wants_running(local(gap)) is running


def test_bridged_periods_make_no_nightly_stop_and_start() -> None:
    """AWS Instance Scheduler's Monday 09:00 to Friday 17:00 as adjacent periods: one start and
    one stop a week, not a stop at 23:59 and a start at 00:00 every night."""
    week = schedule("mon 09:00-23:59 tue-thu 00:00-23:59 fri 00:00-17:00")
    monday = local("2026-12-07T10:00")
    assert week.last_change(monday) == local("2026-12-07T09:00")
    assert week.next_change(monday) == local("2026-12-11T17:00")


def test_holiday_calendars_come_from_the_stack_configuration() -> None:
    config = SchedulerConfig.from_env({
        "HOLIDAY_CALENDARS": json.dumps({"fr": ["01-01", "05-01", "2027-05-06"]}),
        "SCHEDULES": json.dumps({"paris-office": {"schedule": "mon-fri 08:00-19:00 Europe/Paris",
                                                  "holidays": ["fr", "12-24"]}})})
    office = config.schedules["paris-office"]
    assert not office.wants_running(local("2027-05-06T10:00", "Europe/Paris"))  # a date
    assert not office.wants_running(local("2029-05-01T10:00", "Europe/Paris"))  # every year
    assert not office.wants_running(local("2026-12-24T10:00", "Europe/Paris"))
    assert office.wants_running(local("2026-12-23T10:00", "Europe/Paris"))
    tagged = parse_schedule("mon-fri 09:00-17:00 holidays:fr", default_timezone=UTC_ZONE,
                            calendars=config.holiday_calendars)
    assert not tagged.wants_running(local("2027-01-01T10:00"))


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"HOLIDAY_CALENDARS": '{"fr": "01-01"}'}, "calendar 'fr': a list of YYYY-MM-DD"),
        ({"HOLIDAY_CALENDARS": '{"fr": ["13-01"]}'}, "'13-01' in 'calendar fr' is not a day"),
        ({"HOLIDAY_CALENDARS": '{"Bad Name": []}'}, "('Bad Name' is not)"),
        ({"SCHEDULES": '{"x": {"schedule": "08:00-09:00", "holidays": ["de"]}}'},
         "'de' in 'holidays:de' is not a date YYYY-MM-DD, a day of every year MM-DD"),
    ],
)
def test_bad_holiday_configuration_names_what_is_wrong(environment: dict[str, str],
                                                       message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        SchedulerConfig.from_env(environment)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mon#6 08:00-09:00", "'6' in 'mon#6' is not an occurrence in the month (1 to 5)"),
        ("monthdays:32 08:00-09:00", "'32' in 'monthdays:32' is not a day of the month"),
        ("months:jan months:feb 08:00-09:00", "days 'months:jan' have no time range"),
        ("mon-fri sat 08:00-10:00", "days 'mon-fri' have no time range"),
        ("months:jan", "days 'months:jan' have no time range"),
        ("08:00-09:00 holidays:12-32", "'12-32' in 'holidays:12-32' is not a day MM-DD"),
        ('"mon-fri 08:00-19:00', "unknown word '\"mon-fri'"),  # one quote is not a pair
    ],
)
def test_bad_calendar_forms_name_the_word(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(message)):
        schedule(text)


# Every example of docs/instance_scheduler.md's calendar section fits an RDS tag, but `mon#1`.
TAG_SAFE_EXAMPLES = [
    "mon.1 08:00-19:00", "friL 18:00-23:00", "monthdays:L 22:00-06:00",
    "monthdays:1-7 mon-fri 08:00-18:00", "monthdays:15W 08:00-12:00", "monthdays:1/7 06:00-07:00",
    "months:nov-feb mon-fri 08:00-18:00", "jan/3 monthdays:1 08:00-18:00",
    "weekdays:0-4 08:00-18:00", "mon-fri 08:00-19:00 holidays:12-25+01-01+fr",
]


@pytest.mark.parametrize("text", TAG_SAFE_EXAMPLES)
def test_the_calendar_forms_fit_rds_tag_values(text: str) -> None:
    assert RDS_TAG_VALUE.match(text)
    schedule(text, calendars={"fr": Holidays()})
