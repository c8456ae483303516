"""`opskit schedule`: whether a Schedule tag value is valid, and when the resource runs, day by
day in the schedule's own time zone, clock changes shown."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from instance_scheduler.schedule import Mode, Schedule, ScheduleError, parse_schedule
from instance_scheduler.settings import parse_holiday_calendars, parse_named_schedules
from opskit.config import ConfigError
from opskit_cli import catalog
from opskit_cli.errors import UsageError

AUTOMATION = "instance_scheduler"
MAX_DAYS = 366
_HOURS_PER_DAY = 24
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Change:
    at: datetime  # UTC
    running: bool  # the wanted state from `at`


@dataclass(frozen=True)
class Day:
    day: date
    running_at_start: bool
    changes: tuple[Change, ...]
    clock_change: tuple[datetime, str, str] | None  # (UTC instant, offset before, after)
    holiday: bool


def timezone_named(name: str, argument: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(argument, f"{name!r} is not a known time zone (e.g. Europe/Paris)"
                         ) from None


def read_schedule(value: str, default_timezone: ZoneInfo) -> Schedule:
    """The tag value as the scheduler reads it, with the template's named schedules and
    holiday calendars (their defaults)."""
    spec = catalog.function_spec(AUTOMATION, region="us-east-1")
    env = spec.environment
    try:
        calendars = parse_holiday_calendars(json.loads(env.get("HOLIDAY_CALENDARS") or "{}"),
                                            env.get("HOLIDAY_CALENDARS"))
        named = parse_named_schedules(json.loads(env.get("SCHEDULES") or "{}"),
                                      env.get("SCHEDULES"), default_timezone, calendars)
    except (ConfigError, ValueError) as exc:  # the template's own defaults: a broken template
        raise catalog.CatalogError(f"instance_scheduler's template defaults: {exc}") from None
    try:
        return parse_schedule(value, default_timezone=default_timezone, named=named,
                              calendars=calendars)
    except ScheduleError as exc:
        raise UsageError("VALUE", f"{value!r} is not a valid schedule: {exc}") from None


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    return instant.astimezone(zone).utcoffset() or timedelta()


def _clock_change(start: datetime, end: datetime, zone: ZoneInfo
                  ) -> tuple[datetime, str, str] | None:
    """When the zone's offset changes between `start` and `end` (UTC), to the minute."""
    before = _offset(start, zone)
    last = end - _MINUTE
    if _offset(last, zone) == before:
        return None
    low, high = start, last
    while high - low > _MINUTE:
        middle = (low + (high - low) / 2).replace(second=0, microsecond=0)
        if _offset(middle, zone) == before:
            low = middle
        else:
            high = middle
    return high, _zone_label(low, zone), _zone_label(high, zone)


def _zone_label(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{local.tzname()} (UTC{local.strftime('%z')[:3]}:{local.strftime('%z')[3:]})"


def timeline(schedule: Schedule, first: date, days: int) -> list[Day]:
    """The wanted state day by day (local days of the schedule's zone)."""
    zone = schedule.timezone
    found = []
    for number in range(days):
        day = first + timedelta(days=number)
        start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
        changes = tuple(Change(instant, schedule.wants_running(instant))
                        for instant in schedule.candidates_on(day)
                        if start < instant < end and schedule.changes_at(instant))
        found.append(Day(day, schedule.wants_running(start), changes,
                         _clock_change(start, end, zone), schedule.is_holiday(day)))
    return found


def _hhmm(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def _bar(entry: Day, zone: ZoneInfo) -> str:
    """24 cells, one per hour of the local wall clock: # running, . stopped, : both."""
    cells = []
    for hour in range(_HOURS_PER_DAY):
        states = set()
        for minute in range(0, 60, 15):
            wall = datetime.combine(entry.day, time(hour, minute), tzinfo=zone)
            states.add(_state_at(entry, wall.astimezone(UTC)))
        cells.append("#" if states == {True} else "." if states == {False} else ":")
    return "".join(cells)


def _state_at(entry: Day, instant: datetime) -> bool:
    state = entry.running_at_start
    for change in entry.changes:
        if change.at <= instant:
            state = change.running
    return state


def _day_line(entry: Day, zone: ZoneInfo) -> str:
    spans: list[str] = []
    state, since = entry.running_at_start, "00:00"
    for change in entry.changes:
        at = _hhmm(change.at, zone)
        if state and not change.running:
            spans.append(f"{since}-{at}")
        elif change.running and not state:
            since = at
        state = change.running
    if state:
        spans.append(f"{since}-24:00")
    if spans == ["00:00-24:00"]:
        text = "running all day"
    elif not spans:
        text = "stopped all day"
    else:
        text = "running " + ", ".join(spans)
    if entry.holiday:
        text += " (holiday)"
    return f"{entry.day.strftime('%a %Y-%m-%d')}  {_bar(entry, zone)}  {text}"


_MODE_NOTE = {
    Mode.START_ONLY: "start-only: the scheduler starts the resource at each start, never "
                     "stops it",
    Mode.STOP_ONLY: "stop-only: the scheduler stops the resource at each stop, never starts it",
}


def render(schedule: Schedule, days: list[Day], origin: datetime) -> str:
    zone = schedule.timezone
    lines = [f"schedule: {schedule.text!r} is valid", f"time zone: {zone.key}"]
    if schedule.mode is not Mode.BOTH:
        lines.append(f"mode: {_MODE_NOTE[schedule.mode]}")
    options = [name for name, on in (("enforced", schedule.enforced),
                                     ("retain-running", schedule.retain_running),
                                     ("no-stop-new", not schedule.stop_new)) if on]
    if options:
        lines.append(f"options: {', '.join(options)}")
    local = origin.astimezone(zone)
    state = "running" if schedule.wants_running(origin) else "stopped"
    lines.append(f"at {local.strftime('%a %Y-%m-%d %H:%M %Z')}: {state}")
    last = schedule.last_change(origin)
    if last is not None:
        lines.append(f"  since {last.astimezone(zone).strftime('%a %Y-%m-%d %H:%M %Z')}")
    upcoming = schedule.next_change(origin)
    if upcoming is None:
        lines.append("  no change within a year")
    else:
        verb = "starts" if schedule.wants_running(upcoming) else "stops"
        lines.append(f"  next: {verb} {upcoming.astimezone(zone).strftime('%a %Y-%m-%d %H:%M %Z')}")
    lines.extend(["", f"{'':14}  {'0':<6}{'6':<6}{'12':<6}{'18':<5}  (hours, # running)"])
    for entry in days:
        lines.append(_day_line(entry, zone))
        if entry.clock_change is not None:
            at, before, after = entry.clock_change
            lines.append(f"{'':14}  clocks change at {at.astimezone(zone).strftime('%H:%M')}: "
                         f"{before} -> {after}")
    return "\n".join(lines)


def parse_from(text: str | None, zone: ZoneInfo) -> datetime:
    """`--from`: a date (its local midnight) or a time (ISO 8601; local when it has no offset);
    today's midnight in the zone when not given."""
    if text is None:
        today = datetime.now(zone).date()
        return datetime.combine(today, time(), tzinfo=zone)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError("--from", f"{text!r} is not a date (2026-12-07) or a time "
                         "(2026-12-07T08:30, 2026-12-07T08:30+01:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def schedule_report(value: str, *, start: str | None, days: int,
                    timezone: str) -> tuple[str, dict[str, Any]]:
    """The text to print, and the same as data (for --json)."""
    if not 1 <= days <= MAX_DAYS:
        raise UsageError("--days", f"{days} is out of range: expected 1 to {MAX_DAYS}")
    schedule = read_schedule(value, timezone_named(timezone, "--timezone"))
    origin = parse_from(start, schedule.timezone)
    entries = timeline(schedule, origin.astimezone(schedule.timezone).date(), days)
    data = {
        "schedule": schedule.text, "valid": True, "timezone": schedule.timezone.key,
        "mode": schedule.mode.value, "from": origin.isoformat(),
        "running": schedule.wants_running(origin),
        "next_change": (change.isoformat() if (change := schedule.next_change(origin))
                        else None),
        "days": [{"date": entry.day.isoformat(), "holiday": entry.holiday,
                  "running_at_midnight": entry.running_at_start,
                  "changes": [{"at": c.at.isoformat(), "running": c.running}
                              for c in entry.changes],
                  "clock_change": (None if entry.clock_change is None else
                                   {"at": entry.clock_change[0].isoformat(),
                                    "from": entry.clock_change[1],
                                    "to": entry.clock_change[2]})}
                 for entry in entries],
    }
    return render(schedule, entries, origin), data
