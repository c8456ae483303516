"""Which days a period runs on: weekdays, the nth or last weekday of the month, days of the month
(the last one, the weekday nearest to one), months, and steps, as a schedule's day words say them.

    mon-fri   monday+wednesday   fri-mon   weekdays   mon-sun/2      plain weekdays
    mon#1  mon.1  friL                                                 1st Monday, last Friday
    weekdays:0-4  weekdays:0#1                                        numbers, 0 = Monday
    monthdays:1-7  monthdays:L  monthdays:15W  monthdays:1/7          days of the month
    months:jan-mar  jan-mar  months:1/3  months:nov-feb               months

A period's days are the words before its time range, all of which must hold (a weekday word, a
`monthdays:` word and a `months:` word together: every condition is true on the day). Within one
word, `+` joins alternatives. `#` is not allowed in RDS tag values: `mon.1` says `mon#1` there.
Numbers, steps and the letters `L` and `W` mean what they mean in AWS Instance Scheduler's periods
(`docs/instance_scheduler.md`, "Days, months and steps").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
               "september", "october", "november", "december")
ALIASES = {
    "daily": frozenset(range(7)),
    "everyday": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
LAST = -1  # the last occurrence of a weekday in its month
WEEKDAYS_KEY, MONTHDAYS_KEY, MONTHS_KEY = "weekdays:", "monthdays:", "months:"
_STEP = re.compile(r"^(?P<range>[^/]+)(?:/(?P<step>\d{1,2}))?$")


def _month_range(year: int, month: int) -> tuple[int, int]:
    """(weekday of the 1st, 0 = Monday; number of days), as calendar.monthrange says, without
    importing calendar (and locale) at cold start."""
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first.weekday(), (following - first).days


class DaysError(ValueError):
    """Day words that cannot be read; the message names the word and what was expected."""


@dataclass(frozen=True, slots=True)
class DayRule:
    """The days a period runs on. None (or empty) means the condition is not set."""

    weekdays: frozenset[int] | None = None  # 0 = Monday
    nth: frozenset[tuple[int, int]] = frozenset()  # (weekday, 1..5 or LAST)
    monthdays: frozenset[int] | None = None  # 1..31; a day past the month's end never matches
    last_day: bool = False
    nearest_weekday: frozenset[int] = frozenset()  # 15W: the weekday nearest to the 15th
    months: frozenset[int] | None = None  # 1 = January

    @property
    def plain(self) -> bool:
        """Only weekdays: the period's weekday set says it all."""
        return (not self.nth and self.monthdays is None and not self.last_day
                and not self.nearest_weekday and self.months is None)

    def matches(self, day: date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        if (self.weekdays is not None or self.nth) and not (
                (self.weekdays is not None and day.weekday() in self.weekdays)
                or any(_is_nth(day, weekday, n) for weekday, n in self.nth)):
            return False
        if self.monthdays is not None or self.last_day or self.nearest_weekday:
            length = _month_range(day.year, day.month)[1]
            return ((self.monthdays is not None and day.day in self.monthdays)
                    or (self.last_day and day.day == length)
                    or any(nearest_weekday(day.year, day.month, wanted) == day.day
                           for wanted in self.nearest_weekday))
        return True

    def merged(self, other: DayRule, word: str) -> DayRule:
        """This rule and the conditions of `other` (another word of the same period's days)."""
        weekdays_set = self.weekdays is not None or bool(self.nth)
        if (other.weekdays is not None or other.nth) and weekdays_set:
            raise DaysError(f"{word!r}: the period already has its weekdays")
        if other.months is not None and self.months is not None:
            raise DaysError(f"{word!r}: the period already has its months")
        if ((other.monthdays is not None or other.last_day or other.nearest_weekday)
                and (self.monthdays is not None or self.last_day or self.nearest_weekday)):
            raise DaysError(f"{word!r}: the period already has its days of the month")
        return DayRule(
            weekdays=self.weekdays if other.weekdays is None else other.weekdays,
            nth=self.nth | other.nth,
            monthdays=self.monthdays if other.monthdays is None else other.monthdays,
            last_day=self.last_day or other.last_day,
            nearest_weekday=self.nearest_weekday | other.nearest_weekday,
            months=self.months if other.months is None else other.months,
        )


def _is_nth(day: date, weekday: int, n: int) -> bool:
    if day.weekday() != weekday:
        return False
    if n == LAST:
        return day.day + 7 > _month_range(day.year, day.month)[1]
    return (day.day - 1) // 7 + 1 == n


def nearest_weekday(year: int, month: int, wanted: int) -> int | None:
    """The weekday (Monday to Friday) nearest to day `wanted`, within the month: a Saturday moves
    to the Friday before (the Monday after when it is the 1st), a Sunday to the Monday after (the
    Friday before when it is the last day). None when the month has no such day."""
    first_weekday, length = _month_range(year, month)
    if not 1 <= wanted <= length:
        return None
    weekday = (first_weekday + wanted - 1) % 7
    if weekday == 5:
        return wanted - 1 if wanted > 1 else wanted + 2
    if weekday == 6:
        return wanted + 1 if wanted < length else wanted - 2
    return wanted


def _name(value: str, names: tuple[str, ...], word: str, what: str) -> int:
    """A name's index: its first three letters or the whole name (mon, monday)."""
    for index, name in enumerate(names):
        if value in (name[:3], name):
            return index
    raise DaysError(f"{value!r} in {word!r} is not {what}")


def _number(value: str, low: int, high: int, word: str, what: str) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise DaysError(f"{value!r} in {word!r} is not {what} ({low} to {high})")
    return int(value)


def _span(part: str, word: str, read: Callable[[str], int], size: int, offset: int, *,
          wrap: bool) -> frozenset[int]:
    """`a`, `a-b` (wrapping when allowed) or either with `/step`: `a/n` runs to the end."""
    match = _STEP.match(part)
    if match is None:
        raise DaysError(f"{part!r} in {word!r} is not a value, a range or a step")
    first_text, dash, last_text = match["range"].partition("-")
    step = int(match["step"]) if match["step"] else 1
    if step < 1:
        raise DaysError(f"{part!r} in {word!r}: a step is at least 1")
    first = read(first_text)
    # `a/n` runs from a to the end; a lone value is itself.
    last = read(last_text) if dash else (offset + size - 1 if match["step"] else first)
    if last < first and not wrap:
        raise DaysError(f"{part!r} in {word!r} runs backwards")
    length = (last - first) % size + 1
    return frozenset(offset + (first - offset + i) % size for i in range(0, length, step))


def _weekday_part(part: str, word: str, *, numbers: bool) -> DayRule:
    def read(value: str) -> int:
        if numbers and value.isdigit():
            return _number(value, 0, 6, word, "a weekday number (0 = Monday)")
        return _name(value, WEEKDAY_NAMES, word, "a weekday (mon to sun, or monday to sunday)")

    for separator in ("#", "."):
        if separator in part:
            day, _, nth = part.partition(separator)
            return DayRule(nth=frozenset({(read(day), _number(nth, 1, 5, word,
                                                                "an occurrence in the month"))}))
    if part.endswith("l") and len(part) > 1:
        try:
            weekday = read(part[:-1])
        except DaysError:
            pass  # not <day>L: read it as a plain weekday (an error names it there)
        else:
            return DayRule(nth=frozenset({(weekday, LAST)}))
    return DayRule(weekdays=_span(part, word, read, 7, 0, wrap=True))


def _monthday_part(part: str, word: str) -> DayRule:
    if part == "l":
        return DayRule(last_day=True)
    if part.endswith("w"):
        return DayRule(nearest_weekday=frozenset(
            {_number(part[:-1], 1, 31, word, "a day of the month")}))

    def read(value: str) -> int:
        return _number(value, 1, 31, word, "a day of the month")

    return DayRule(monthdays=_span(part, word, read, 31, 1, wrap=False))


def _month_part(part: str, word: str) -> DayRule:
    def read(value: str) -> int:
        if value.isdigit():
            return _number(value, 1, 12, word, "a month number")
        return _name(value, MONTH_NAMES, word, "a month (jan to dec)") + 1

    return DayRule(months=_span(part, word, read, 12, 1, wrap=True))


def _union(rules: list[DayRule]) -> DayRule:
    """The alternatives of one word (`mon+wed#2`, `1-7+L`), as one condition."""
    weekdays = [r.weekdays for r in rules if r.weekdays is not None]
    monthdays = [r.monthdays for r in rules if r.monthdays is not None]
    months = [r.months for r in rules if r.months is not None]
    return DayRule(
        weekdays=frozenset().union(*weekdays) if weekdays else None,
        nth=frozenset().union(*(r.nth for r in rules)),
        monthdays=frozenset().union(*monthdays) if monthdays else None,
        last_day=any(r.last_day for r in rules),
        nearest_weekday=frozenset().union(*(r.nearest_weekday for r in rules)),
        months=frozenset().union(*months) if months else None,
    )


def _is_name(value: str, names: tuple[str, ...]) -> bool:
    return any(value in (name[:3], name) for name in names)


def _first(token: str) -> str:
    return re.split(r"[-+/#.]", token, maxsplit=1)[0]


def _is_month_word(token: str) -> bool:
    return _is_name(_first(token), MONTH_NAMES)


def is_day_word(token: str) -> bool:
    """Whether a (lower-case) word of a schedule speaks of days or months: a key, an alias, or
    a word starting with a weekday's or a month's name (a time zone never does)."""
    if token in ALIASES or token.startswith((WEEKDAYS_KEY, MONTHDAYS_KEY, MONTHS_KEY)):
        return True
    first = _first(token)
    return (_is_name(first, WEEKDAY_NAMES) or _is_name(first, MONTH_NAMES)
            or (first.endswith("l") and _is_name(first[:-1], WEEKDAY_NAMES)))


def parse_day_word(word: str) -> DayRule:
    """One day word of a schedule (see the module's docstring); DaysError names what is wrong."""
    token = word.lower()
    if token in ALIASES:
        return DayRule(weekdays=ALIASES[token])
    readers: tuple[tuple[str, Callable[[str], DayRule]], ...] = (
        (WEEKDAYS_KEY, lambda part: _weekday_part(part, word, numbers=True)),
        (MONTHDAYS_KEY, lambda part: _monthday_part(part, word)),
        (MONTHS_KEY, lambda part: _month_part(part, word)))
    for key, read in readers:
        if token.startswith(key):
            parts = token.removeprefix(key).split("+")
            if parts == [""]:
                raise DaysError(f"{word!r} names no {key.rstrip(':')}")
            return _union([read(part) for part in parts])
    parts = token.split("+")
    if _is_month_word(token):
        if not any(mark in token for mark in "-+/"):
            # `mar` or `may` alone reads too easily as a weekday: a lone month says `months:`.
            raise DaysError(f"{word!r} alone is a month: write months:{token} for it")
        return _union([_month_part(part, word) for part in parts])
    return _union([_weekday_part(part, word, numbers=False) for part in parts])
