"""`opskit schedule`: a tag value checked, and the days ahead in the schedule's zone (every test
passes --from: nothing here depends on today's date)."""

from __future__ import annotations

import json

from tests.cli.conftest import Opskit


def test_a_week_of_office_hours_with_the_spring_clock_change(opskit: Opskit) -> None:
    ran = opskit("schedule", "mon-fri 08:00-19:00 Europe/Paris", "--from", "2027-03-25")
    assert ran.status == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == "schedule: 'mon-fri 08:00-19:00 Europe/Paris' is valid"
    assert "time zone: Europe/Paris" in lines
    days = [line for line in lines if line[:3] in {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
                                                      "Sun"}]
    assert len(days) == 7
    assert days[0] == "Thu 2027-03-25  ........###########.....  running 08:00-19:00"
    assert days[2].endswith("stopped all day")  # Saturday
    # Sunday 28 March 2027: 02:00 CET becomes 03:00 CEST; the hours stay on the wall clock.
    assert any("clocks change at 03:00: CET (UTC+01:00) -> CEST (UTC+02:00)" in line
               for line in lines)
    assert days[4] == "Mon 2027-03-29  ........###########.....  running 08:00-19:00"
    assert "next: starts Thu 2027-03-25 08:00 CET" in ran.out


def test_an_overnight_schedule_with_a_holiday(opskit: Opskit) -> None:
    ran = opskit("schedule", "daily 22:00-06:00 America/New_York holidays:12-25",
                 "--from", "2026-12-24T12:00", "--days", "3")
    assert ran.status == 0, ran.err
    assert "at Thu 2026-12-24 12:00 EST: stopped" in ran.out
    assert "Thu 2026-12-24  ######................##  running 00:00-06:00, 22:00-24:00" \
        in ran.out
    assert "Fri 2026-12-25  ........................  stopped all day (holiday)" in ran.out
    assert "running 22:00-24:00" in ran.out.splitlines()[-1]


def test_a_named_schedule_of_the_template_and_the_default_zone(opskit: Opskit) -> None:
    ran = opskit("schedule", "office-hours", "--timezone", "Asia/Tokyo",
                 "--from", "2027-01-04", "--days", "1")
    assert ran.status == 0, ran.err
    assert "time zone: Asia/Tokyo" in ran.out
    assert "Mon 2027-01-04" in ran.out
    assert "running 08:00-19:00" in ran.out


def test_start_only_says_what_the_scheduler_does(opskit: Opskit) -> None:
    ran = opskit("schedule", "start-only mon-fri 07:00-20:00", "--from", "2027-01-04",
                 "--days", "1")
    assert ran.status == 0, ran.err
    assert "mode: start-only" in ran.out


def test_json_gives_each_change_in_utc(opskit: Opskit) -> None:
    ran = opskit("schedule", "mon-fri 08:00-19:00 Europe/London", "--from", "2026-10-23",
                 "--days", "3", "--json")
    assert ran.status == 0, ran.err
    data = json.loads(ran.out)
    assert data["valid"] is True
    assert data["timezone"] == "Europe/London"
    friday, _, sunday = data["days"]
    assert friday["changes"] == [{"at": "2026-10-23T07:00:00+00:00", "running": True},
                                 {"at": "2026-10-23T18:00:00+00:00", "running": False}]
    assert sunday["clock_change"]["to"] == "GMT (UTC+00:00)"


def test_an_invalid_value_is_refused_naming_the_argument(opskit: Opskit) -> None:
    ran = opskit("schedule", "mon-fri 8h-19h", "--from", "2027-01-04")
    assert ran.status == 2
    assert "argument VALUE: 'mon-fri 8h-19h' is not a valid schedule: unknown word '8h-19h'" \
        in ran.err


def test_bad_options_are_named(opskit: Opskit) -> None:
    ran = opskit("schedule", "daily 08:00-09:00", "--timezone", "Mars/Olympus")
    assert ran.status == 2
    assert "argument --timezone: 'Mars/Olympus' is not a known time zone" in ran.err
    ran = opskit("schedule", "daily 08:00-09:00", "--from", "next monday")
    assert ran.status == 2
    assert "argument --from: 'next monday' is not a date" in ran.err
    ran = opskit("schedule", "daily 08:00-09:00", "--days", "0")
    assert ran.status == 2
    assert "argument --days: '0' is not a positive number" in ran.err
    ran = opskit("schedule", "daily 08:00-09:00", "--days", "400", "--from", "2027-01-04")
    assert ran.status == 2
    assert "argument --days: 400 is out of range" in ran.err
