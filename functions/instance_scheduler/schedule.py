"""The schedule grammar (tag values safe for EC2, ASG and RDS), when a schedule wants 'running'
and when that last changed.

    [start-only|stop-only] [enforced] (<days>? <HH:MM-HH:MM>...)... [<Area/City>|UTC]
    [holidays:<date>+<date>]
    or a name defined in the stack's SCHEDULES configuration, e.g. `office-hours`, after the same
    optional leading words.

Only letters, digits, spaces and `- : / + _` are used: all are allowed in RDS tag values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
# No time zone repeats more than two hours when its clocks go back.
_MAX_REPEATED_MINUTES = 180
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    "daily": frozenset(range(7)),
    "everyday": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
_DAY = "(?:mon|tue|wed|thu|fri|sat|sun)"
_DAYS_RE = re.compile(rf"^{_DAY}(?:-{_DAY})?(?:\+{_DAY}(?:-{_DAY})?)*$")
_RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# The leading word that makes the scheduler keep a resource to its schedule at every run.
ENFORCED = "enforced"
# How far back (and ahead) a change of the wanted state is looked for: a schedule that has not
# changed in a year (always on, or a year of holidays) has no transition to apply.
CHANGE_HORIZON_DAYS = 366
_MINUTE = timedelta(minutes=1)


class ScheduleError(ValueError):
    """A schedule that cannot be parsed; the message says what is wrong."""


class Mode(StrEnum):
    BOTH = "start-stop"
    START_ONLY = "start-only"
    STOP_ONLY = "stop-only"


@dataclass(frozen=True, slots=True)
class Period:
    """Running from `start_minute` to `end_minute` (local wall clock) on `days` (0 = Monday).

    `end_minute` may be 1440 (24:00); `end_minute` < `start_minute` means an overnight period
    that ends the next day.
    """

    days: frozenset[int]
    start_minute: int
    end_minute: int

    @property
    def overnight(self) -> bool:
        return self.end_minute < self.start_minute

    def contains(self, weekday: int, minute: int, *, carried_over: bool = True) -> bool:
        """Whether the period covers `minute` of `weekday`; with `carried_over=False` the
        morning part of an overnight period that started the day before is left out."""
        if not self.overnight:
            return weekday in self.days and self.start_minute <= minute < self.end_minute
        return (weekday in self.days and minute >= self.start_minute) or (
            carried_over and (weekday - 1) % 7 in self.days and minute < self.end_minute
        )


@dataclass(frozen=True, slots=True)
class Schedule:
    text: str
    periods: tuple[Period, ...]
    timezone: ZoneInfo
    holidays: frozenset[date] = frozenset()
    mode: Mode = Mode.BOTH
    # Act at every run (set back a resource changed by hand), not only when the wanted state
    # changes.
    enforced: bool = False

    def last_change(self, instant: datetime) -> datetime | None:
        """The latest instant at or before `instant` when the wanted state changed (a transition),
        or None when it has not changed within CHANGE_HORIZON_DAYS."""
        return _last_change(self, _whole_minute(instant))

    def next_change(self, instant: datetime) -> datetime | None:
        """The first instant after `instant` when the wanted state changes, or None within
        CHANGE_HORIZON_DAYS."""
        return _next_change(self, _whole_minute(instant))

    def changes_at(self, instant: datetime) -> bool:
        """Whether the wanted state at `instant` differs from the minute before."""
        return self.wants_running(instant) != self.wants_running(instant - _MINUTE)

    def candidates_on(self, day: date) -> list[datetime]:
        """The instants of local `day` where the wanted state can change: each period's start and
        end and midnight (holidays, overnight periods) on the wall clock, and the instant the
        clock jumps when daylight saving time begins or ends (a boundary in the skipped hour
        takes effect then). Sorted, in UTC."""
        midnight = datetime.combine(day, time(), tzinfo=self.timezone)
        boundaries = {0} | {m % MINUTES_PER_DAY for p in self.periods
                            for m in (p.start_minute, p.end_minute)}
        # Wall-clock arithmetic on an aware datetime: midnight + m is local day + m minutes.
        found = {(midnight + timedelta(minutes=m)).astimezone(UTC) for m in boundaries}
        first = midnight.astimezone(UTC)
        last = (midnight + timedelta(days=1)).astimezone(UTC) - _MINUTE
        if first.astimezone(self.timezone).utcoffset() != last.astimezone(
                self.timezone).utcoffset():
            found.add(_offset_change(first, last, self.timezone))
        return sorted(found)

    def wants_running(self, instant: datetime) -> bool:
        """Whether the resource should run at `instant` (an aware datetime).

        Periods follow the local wall clock. A holiday keeps the resource stopped for the whole
        local date, and an overnight period that starts on a holiday does not run after midnight.
        """
        local = self._wall_clock(instant)
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        yesterday_off = local.date() - timedelta(days=1) in self.holidays
        return any(period.contains(local.weekday(), minute, carried_over=not yesterday_off)
                   for period in self.periods)

    def _wall_clock(self, instant: datetime) -> datetime:
        """Local time; in the repeated hour after clocks go back, the last minute before they did.

        Every boundary inside the repeated hour was crossed the first time round, so the second
        time round keeps the state the schedule had then (no stop/start flap for an hour).
        """
        local = instant.astimezone(self.timezone)
        probe = instant
        for _ in range(_MAX_REPEATED_MINUTES):
            if local.fold == 0:
                break
            probe -= timedelta(minutes=1)
            local = probe.astimezone(self.timezone)
        return local


def _whole_minute(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(second=0, microsecond=0)


def _offset_change(first: datetime, last: datetime, zone: ZoneInfo) -> datetime:
    """The first minute between `first` and `last` (UTC, different offsets) on the new offset."""
    before = first.astimezone(zone).utcoffset()
    while last - first > _MINUTE:
        middle = first + (last - first) // 2
        middle = middle.replace(second=0, microsecond=0)
        if middle.astimezone(zone).utcoffset() == before:
            first = middle
        else:
            last = middle
    return last


@lru_cache(maxsize=4096)
def _last_change(schedule: Schedule, instant: datetime) -> datetime | None:
    today = instant.astimezone(schedule.timezone).date()
    for back in range(CHANGE_HORIZON_DAYS + 1):
        for candidate in reversed(schedule.candidates_on(today - timedelta(days=back))):
            if candidate <= instant and schedule.changes_at(candidate):
                return candidate
    return None


@lru_cache(maxsize=4096)
def _next_change(schedule: Schedule, instant: datetime) -> datetime | None:
    today = instant.astimezone(schedule.timezone).date()
    for ahead in range(CHANGE_HORIZON_DAYS + 1):
        for candidate in schedule.candidates_on(today + timedelta(days=ahead)):
            if candidate > instant and schedule.changes_at(candidate):
                return candidate
    return None


def _parse_days(token: str) -> frozenset[int]:
    if token in _DAY_ALIASES:
        return _DAY_ALIASES[token]
    days: set[int] = set()
    for part in token.split("+"):
        first, _, last = part.partition("-")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        # A range may wrap around the week: fri-mon = fri, sat, sun, mon.
        span = (end - start) % 7
        days.update((start + offset) % 7 for offset in range(span + 1))
    return frozenset(days)


def _parse_minute(hours: str, minutes: str, token: str, *, is_end: bool) -> int:
    hour, minute = int(hours), int(minutes)
    if minute > 59 or hour > 24 or (hour == 24 and (minute != 0 or not is_end)):
        raise ScheduleError(f"{token!r} is not a time range HH:MM-HH:MM (00:00 to 24:00)")
    return hour * 60 + minute


def _parse_range(token: str, match: re.Match[str], days: frozenset[int]) -> Period:
    start = _parse_minute(match[1], match[2], token, is_end=False)
    end = _parse_minute(match[3], match[4], token, is_end=True)
    if start == end:
        raise ScheduleError(f"{token!r} starts and ends at the same time")
    return Period(days, start, end)


def _parse_timezone(token: str) -> ZoneInfo:
    try:
        return ZoneInfo(token)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{token!r} is not a known time zone (e.g. Europe/Paris)") from None


def _parse_holidays(token: str) -> frozenset[date]:
    days: set[date] = set()
    for part in token.removeprefix("holidays:").split("+"):
        try:
            days.add(date.fromisoformat(part))
        except ValueError:
            raise ScheduleError(f"{part!r} in {token!r} is not a date YYYY-MM-DD") from None
    return frozenset(days)


def parse_schedule(
    text: str,
    *,
    default_timezone: ZoneInfo,
    named: Mapping[str, Schedule] | None = None,
) -> Schedule:
    """Parse a schedule tag value; raises ScheduleError naming the offending word."""
    words = text.split()
    if not words:
        raise ScheduleError("the schedule is empty")
    mode = Mode.BOTH
    enforced = False
    # Leading words, in any order: at most one mode, and `enforced`.
    while words and words[0].lower() in (Mode.START_ONLY, Mode.STOP_ONLY, ENFORCED):
        word = words.pop(0).lower()
        if word == ENFORCED:
            enforced = True
        elif mode is not Mode.BOTH:
            raise ScheduleError(f"more than one mode ({mode.value!r} and {word!r})")
        else:
            mode = Mode(word)
    named = named or {}
    if len(words) == 1 and words[0].lower() in named:
        base = named[words[0].lower()]
        return Schedule(text, base.periods, base.timezone, base.holidays,
                        base.mode if mode is Mode.BOTH else mode, enforced or base.enforced)
    periods: list[Period] = []
    pending_days: tuple[str, frozenset[int]] | None = None  # days not yet given a time range
    current_days = frozenset(range(7))
    timezone: ZoneInfo | None = None
    holidays: frozenset[date] = frozenset()
    for word in words:
        token = word.lower()
        if token in _DAY_ALIASES or _DAYS_RE.match(token):
            if pending_days is not None:
                raise ScheduleError(f"days {pending_days[0]!r} have no time range")
            current_days = _parse_days(token)
            pending_days = (word, current_days)
        elif match := _RANGE_RE.match(token):
            periods.append(_parse_range(word, match, current_days))
            pending_days = None
        elif token.startswith("holidays:"):
            holidays |= _parse_holidays(token)
        elif "/" in word or token in ("utc", "gmt"):
            if timezone is not None:
                raise ScheduleError(f"more than one time zone ({word!r})")
            timezone = _parse_timezone("UTC" if token in ("utc", "gmt") else word)
        elif token in named:
            raise ScheduleError(f"named schedule {word!r} must be used alone")
        elif token in (Mode.START_ONLY, Mode.STOP_ONLY, ENFORCED):
            raise ScheduleError(f"{word!r} must come first, before days and time ranges")
        else:
            raise ScheduleError(f"unknown word {word!r}: expected days (mon-fri), a time range "
                                "(08:00-19:00), a time zone (Europe/Paris) or a schedule name")
    if pending_days is not None:
        raise ScheduleError(f"days {pending_days[0]!r} have no time range")
    if not periods:
        raise ScheduleError("no time range (e.g. 08:00-19:00)")
    return Schedule(text, tuple(periods), timezone or default_timezone, holidays, mode, enforced)


def is_schedule_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))
