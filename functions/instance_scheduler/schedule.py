"""The schedule grammar (tag values safe for EC2, ASG and RDS), when a schedule wants 'running'
and when that last changed.

    [start-only|stop-only] [enforced] [retain-running] [no-stop-new]
    (<days>... <HH:MM-HH:MM>[@<EC2 instance type>]...)... [<Area/City>|UTC]
    [holidays:<YYYY-MM-DD|MM-DD|calendar>+...]
    or a name defined in the stack's SCHEDULES configuration, e.g. `office-hours`, after the same
    optional leading words.

Day words (weekdays, `mon#1`, `friL`, `monthdays:15W`, `months:jan-mar`...) are read by
`instance_scheduler.days`. Holidays are dates, `MM-DD` days of every year, or the names of the
stack's holiday calendars (HOLIDAY_CALENDARS). A value in quotes (`"mon-fri 08:00-19:00"`) is read
without them. A stop of one minute between two running minutes (a period ending at 23:59 and the
next starting at 00:00) is bridged, as AWS Instance Scheduler does: the resource keeps running.

Only letters, digits, spaces and `- : / + _ .` are needed: all are allowed in RDS tag values
(`#` too is read, for `mon#1` in EC2 and Auto Scaling tags and named schedules, and `@`, which
every service allows, for a period's instance type: `08:00-19:00@t3.large`, EC2 only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from instance_scheduler.days import DayRule, DaysError, is_day_word, parse_day_word

MINUTES_PER_DAY = 24 * 60
# No time zone repeats more than two hours when its clocks go back.
_MAX_REPEATED_MINUTES = 180
EVERY_DAY = frozenset(range(7))
_QUOTES = ('"', "'")
_RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
# `08:00-19:00@t3.large`: the EC2 instance type a period runs with (family, generation and
# options, a dot, the size: t3.large, m7g.2xlarge, c6in.metal, u-6tb1.112xlarge).
_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[a-z0-9]+$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# The leading word that makes the scheduler keep a resource to its schedule at every run.
ENFORCED = "enforced"
# AWS Instance Scheduler's retain_running: a resource a person started before its period began
# is left running at the period's end.
RETAIN_RUNNING = "retain-running"
# AWS Instance Scheduler's stop_new_instances=false: a newly tagged resource found running
# outside its periods is left running until the next stop.
NO_STOP_NEW = "no-stop-new"
LEADING_WORDS = ("start-only", "stop-only", ENFORCED, RETAIN_RUNNING, NO_STOP_NEW)
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
    # Days beyond weekdays (nth weekday, days of the month, months); None: `days` says it all.
    rule: DayRule | None = None
    # The EC2 instance type the period runs with (`08:00-19:00@t3.large`), set when the
    # scheduler starts an instance it had stopped; None: the instance keeps its type.
    instance_type: str | None = None

    @property
    def overnight(self) -> bool:
        return self.end_minute < self.start_minute

    def runs_on(self, weekday: int, day: date | None = None) -> bool:
        """Whether the period starts on that day (`day` is needed when it has a rule)."""
        return weekday in self.days and (self.rule is None or (
            day is not None and self.rule.matches(day)))

    def contains(self, weekday: int, minute: int, *, carried_over: bool = True,
                 day: date | None = None) -> bool:
        """Whether the period covers `minute` of `weekday` (the local `day`); with
        `carried_over=False` the morning part of an overnight period that started the day
        before is left out."""
        if not self.overnight:
            return self.runs_on(weekday, day) and self.start_minute <= minute < self.end_minute
        before = day - timedelta(days=1) if day is not None else None
        return (self.runs_on(weekday, day) and minute >= self.start_minute) or (
            carried_over and self.runs_on((weekday - 1) % 7, before)
            and minute < self.end_minute
        )


@dataclass(frozen=True, slots=True)
class Schedule:
    # Not compared: schedules that mean the same share their cached transitions.
    text: str = field(compare=False)
    periods: tuple[Period, ...]
    timezone: ZoneInfo
    holidays: frozenset[date] = frozenset()
    mode: Mode = Mode.BOTH
    # Act at every run (set back a resource changed by hand), not only when the wanted state
    # changes.
    enforced: bool = False
    # Holidays of every year, as (month, day).
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()
    retain_running: bool = False
    stop_new: bool = True

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

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
        A stop of one minute between two running minutes is bridged (it keeps running).
        """
        if self._in_period(instant):
            return True
        return self._in_period(instant - _MINUTE) and self._in_period(instant + _MINUTE)

    def instance_type_at(self, instant: datetime) -> str | None:
        """The instance type of the period running at `instant`, if it names one (the first
        such period, in the order written)."""
        return next((period.instance_type for period in self._running(instant)
                     if period.instance_type is not None), None)

    def _in_period(self, instant: datetime) -> bool:
        return next(self._running(instant), None) is not None

    def _running(self, instant: datetime) -> Iterator[Period]:
        """The periods covering `instant` on the local wall clock (none on a holiday, nor after
        midnight of an overnight period that began on one)."""
        local = self._wall_clock(instant)
        today = local.date()
        if self.is_holiday(today):
            return
        minute = local.hour * 60 + local.minute
        yesterday_off = self.is_holiday(today - timedelta(days=1))
        for period in self.periods:
            if period.contains(local.weekday(), minute, carried_over=not yesterday_off,
                               day=today):
                yield period

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


def _parse_minute(hours: str, minutes: str, token: str, *, is_end: bool) -> int:
    hour, minute = int(hours), int(minutes)
    if minute > 59 or hour > 24 or (hour == 24 and (minute != 0 or not is_end)):
        raise ScheduleError(f"{token!r} is not a time range HH:MM-HH:MM (00:00 to 24:00)")
    return hour * 60 + minute


def _parse_range(token: str, match: re.Match[str], rule: DayRule) -> Period:
    start = _parse_minute(match[1], match[2], token, is_end=False)
    end = _parse_minute(match[3], match[4], token, is_end=True)
    if start == end:
        raise ScheduleError(f"{token!r} starts and ends at the same time")
    if rule.plain:
        return Period(rule.weekdays if rule.weekdays is not None else EVERY_DAY, start, end)
    return Period(EVERY_DAY, start, end, rule)


def _parse_instance_type(word: str) -> str:
    instance_type = word.split("@", 1)[1].lower()
    if not _TYPE_RE.match(instance_type):
        raise ScheduleError(f"{instance_type!r} in {word!r} is not an EC2 instance type "
                            "(e.g. 08:00-19:00@t3.large)")
    return instance_type


def _parse_timezone(token: str) -> ZoneInfo:
    try:
        return ZoneInfo(token)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{token!r} is not a known time zone (e.g. Europe/Paris)") from None


@dataclass(frozen=True, slots=True)
class Holidays:
    """Days off: dates, and days of every year as (month, day)."""

    dates: frozenset[date] = frozenset()
    yearly: frozenset[tuple[int, int]] = frozenset()

    def __or__(self, other: Holidays) -> Holidays:
        return Holidays(self.dates | other.dates, self.yearly | other.yearly)


_YEARLY_RE = re.compile(r"^(\d{2})-(\d{2})$")


def parse_holiday(part: str, where: str, calendars: Mapping[str, Holidays]) -> Holidays:
    """`2026-12-25`, `12-25` (every year) or the name of a holiday calendar."""
    if part in calendars:
        return calendars[part]
    if match := _YEARLY_RE.match(part):
        month, day = int(match[1]), int(match[2])
        try:
            date(2028, month, day)  # a leap year: 02-29 is a day of some years
        except ValueError:
            raise ScheduleError(f"{part!r} in {where!r} is not a day MM-DD") from None
        return Holidays(yearly=frozenset({(month, day)}))
    try:
        return Holidays(dates=frozenset({date.fromisoformat(part)}))
    except ValueError:
        names = f" or a holiday calendar ({', '.join(sorted(calendars))})" if calendars else ""
        raise ScheduleError(f"{part!r} in {where!r} is not a date YYYY-MM-DD, a day of every "
                            f"year MM-DD{names}") from None


def _parse_holidays(word: str, calendars: Mapping[str, Holidays]) -> Holidays:
    found = Holidays()
    for part in word.lower().removeprefix("holidays:").split("+"):
        found |= parse_holiday(part, word, calendars)
    return found


def _unquoted(text: str) -> str:
    """The value without one pair of quotes around it (`"mon-fri 08:00-19:00"`)."""
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in _QUOTES:
        return value[1:-1]
    return value


@dataclass(frozen=True, slots=True)
class Leading:
    """What the leading words say."""

    mode: Mode = Mode.BOTH
    words: frozenset[str] = frozenset()  # enforced, retain-running, no-stop-new


def _leading_words(words: list[str]) -> Leading:
    """Takes the leading words off `words`, in any order: at most one mode, and any of
    `enforced`, `retain-running`, `no-stop-new`."""
    mode = Mode.BOTH
    flags: set[str] = set()
    while words and words[0].lower() in LEADING_WORDS:
        word = words.pop(0).lower()
        if word not in (Mode.START_ONLY, Mode.STOP_ONLY):
            flags.add(word)
        elif mode is not Mode.BOTH:
            raise ScheduleError(f"more than one mode ({mode.value!r} and {word!r})")
        else:
            mode = Mode(word)
    return Leading(mode, frozenset(flags))


def _day_word(word: str, current: DayRule, pending: str | None) -> DayRule:
    """The period's days with `word` read: a new rule, or one more condition of the pending one
    (a second word of a kind the pending words have means they had no time range)."""
    try:
        rule = parse_day_word(word)
    except DaysError as exc:
        raise ScheduleError(str(exc)) from None
    if pending is None:
        return rule
    try:
        return current.merged(rule, word)
    except DaysError:
        raise ScheduleError(f"days {pending!r} have no time range") from None


def parse_schedule(
    text: str,
    *,
    default_timezone: ZoneInfo,
    named: Mapping[str, Schedule] | None = None,
    calendars: Mapping[str, Holidays] | None = None,
) -> Schedule:
    """Parse a schedule tag value; raises ScheduleError naming the offending word."""
    words = _unquoted(text).split()
    if not words:
        raise ScheduleError("the schedule is empty")
    leading = _leading_words(words)
    enforced = ENFORCED in leading.words
    retain = RETAIN_RUNNING in leading.words
    stop_new = NO_STOP_NEW not in leading.words
    named = named or {}
    if len(words) == 1 and words[0].lower() in named:
        base = named[words[0].lower()]
        return Schedule(text, base.periods, base.timezone, base.holidays,
                        base.mode if leading.mode is Mode.BOTH else leading.mode,
                        enforced or base.enforced, base.yearly_holidays,
                        retain or base.retain_running, stop_new and base.stop_new)
    periods: list[Period] = []
    pending: str | None = None  # the first day word not yet given a time range
    current = DayRule()
    timezone: ZoneInfo | None = None
    holidays = Holidays()
    for word in words:
        token = word.lower()
        if is_day_word(token):
            current = _day_word(word, current, pending)
            pending = pending or word
        elif match := _RANGE_RE.match(token.split("@", 1)[0]):
            period = _parse_range(word.split("@", 1)[0], match, current)
            if "@" in token:
                period = replace(period, instance_type=_parse_instance_type(word))
            periods.append(period)
            pending = None
        elif token.startswith("holidays:"):
            holidays |= _parse_holidays(word, calendars or {})
        elif "/" in word or token in ("utc", "gmt"):
            if timezone is not None:
                raise ScheduleError(f"more than one time zone ({word!r})")
            timezone = _parse_timezone("UTC" if token in ("utc", "gmt") else word)
        elif token in named:
            raise ScheduleError(f"named schedule {word!r} must be used alone")
        elif token in LEADING_WORDS:
            raise ScheduleError(f"{word!r} must come first, before days and time ranges")
        else:
            raise ScheduleError(f"unknown word {word!r}: expected days (mon-fri, mon#1, "
                                "monthdays:1-7, months:jan-mar), a time range (08:00-19:00), a "
                                "time zone (Europe/Paris) or a schedule name")
    if pending is not None:
        raise ScheduleError(f"days {pending!r} have no time range")
    if not periods:
        raise ScheduleError("no time range (e.g. 08:00-19:00)")
    return Schedule(text, tuple(periods), timezone or default_timezone, holidays.dates,
                    leading.mode, enforced, holidays.yearly, retain, stop_new)


def is_schedule_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))
