"""Day words: weekdays, nth and last weekdays, days of the month (L, W), months and steps, checked
on real calendars (month ends, leap years, months starting on each weekday)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instance_scheduler.days import (
    LAST,
    DayRule,
    DaysError,
    is_day_word,
    nearest_weekday,
    parse_day_word,
)


def days_in(year: int, month: int, word: str) -> list[int]:
    rule = parse_day_word(word)
    length = calendar.monthrange(year, month)[1]
    return [d for d in range(1, length + 1) if rule.matches(date(year, month, d))]


@pytest.mark.parametrize(
    ("word", "year", "month", "expected"),
    [
        # December 2026 starts on a Tuesday; February 2028 is a leap month starting on Tuesday.
        ("mon#1", 2026, 12, [7]),
        ("mon.1", 2026, 12, [7]),  # the RDS-safe spelling
        ("tue#1", 2026, 12, [1]),
        ("thu#5", 2026, 12, [31]),
        ("fri#5", 2026, 12, []),  # no fifth Friday that month
        ("friL", 2026, 12, [25]),
        ("thuL", 2026, 12, [31]),
        ("tueL", 2028, 2, [29]),  # leap day
        ("weekdays:0#2", 2026, 12, [14]),  # numbers as AWS Instance Scheduler: 0 = Monday
        ("weekdays:4L", 2026, 12, [25]),
        ("mon#1+friL", 2026, 12, [7, 25]),
        ("monthdays:1-3", 2026, 12, [1, 2, 3]),
        ("monthdays:L", 2026, 2, [28]),
        ("monthdays:L", 2028, 2, [29]),
        ("monthdays:L", 2026, 4, [30]),
        ("monthdays:31", 2026, 4, []),  # a day the month does not have matches nothing
        ("monthdays:1/7", 2026, 12, [1, 8, 15, 22, 29]),
        ("monthdays:10-20/5", 2026, 12, [10, 15, 20]),
        ("monthdays:1+15+L", 2026, 12, [1, 15, 31]),
        ("monthdays:15W", 2026, 11, [16]),  # Sunday the 15th: Monday the 16th
        ("monthdays:14W", 2026, 11, [13]),  # Saturday the 14th: Friday the 13th
        ("monthdays:1W", 2026, 8, [3]),  # Saturday the 1st: Monday the 3rd, not July
        ("monthdays:31W", 2026, 5, [29]),  # Sunday the 31st: Friday the 29th, not June
        ("monthdays:30W", 2026, 4, [30]),  # a Thursday: itself
        ("monthdays:31W", 2026, 4, []),  # April has no 31st
    ],
)
def test_days_of_a_month(word: str, year: int, month: int, expected: list[int]) -> None:
    assert days_in(year, month, word) == expected


@pytest.mark.parametrize(
    ("word", "months"),
    [
        ("months:jan-mar", {1, 2, 3}),
        ("jan-mar", {1, 2, 3}),
        ("months:nov-feb", {11, 12, 1, 2}),  # wraps over the new year
        ("months:1/3", {1, 4, 7, 10}),
        ("jan/3", {1, 4, 7, 10}),
        ("months:june+december", {6, 12}),
        ("months:dec", {12}),
        ("dec+jan", {12, 1}),
    ],
)
def test_months(word: str, months: set[int]) -> None:
    rule = parse_day_word(word)
    assert rule.months == months
    assert [m for m in range(1, 13) if rule.matches(date(2027, m, 15))] == sorted(months)


@pytest.mark.parametrize(
    ("word", "weekdays"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("monday-friday", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("mon-sun/2", {0, 2, 4, 6}),
        ("mon/3", {0, 3, 6}),
        ("weekdays:0-4", {0, 1, 2, 3, 4}),
        ("weekdays:5+6", {5, 6}),
        ("WEEKENDS", {5, 6}),
        ("Saturday+sunday", {5, 6}),
    ],
)
def test_weekdays(word: str, weekdays: set[int]) -> None:
    rule = parse_day_word(word)
    assert rule.weekdays == weekdays
    assert rule.plain


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("mon#6", "'6' in 'mon#6' is not an occurrence in the month (1 to 5)"),
        ("mon#0", "is not an occurrence in the month"),
        ("weekdays:7", "'7' in 'weekdays:7' is not a weekday number (0 = Monday) (0 to 6)"),
        ("funday", "'funday' in 'funday' is not a weekday"),
        ("monthdays:0", "'0' in 'monthdays:0' is not a day of the month (1 to 31)"),
        ("monthdays:32W", "is not a day of the month"),
        ("monthdays:20-10", "'20-10' in 'monthdays:20-10' runs backwards"),
        ("monthdays:", "'monthdays:' names no monthdays"),
        ("months:13", "'13' in 'months:13' is not a month number (1 to 12)"),
        ("months:smarch", "'smarch' in 'months:smarch' is not a month"),
        ("mon-fri/0", "a step is at least 1"),
        ("mon/x", "is not a value, a range or a step"),
        ("mar", "'mar' alone is a month: write months:mar for it"),
        ("May", "'May' alone is a month: write months:may for it"),
    ],
)
def test_bad_day_words_name_what_is_wrong(word: str, message: str) -> None:
    with pytest.raises(DaysError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_day_word(word)


def test_what_counts_as_a_day_word() -> None:
    for word in ("mon-fri", "fril", "weekdays", "weekdays:0-4", "monthdays:l", "months:1/3",
                 "jan-mar", "march", "mon#1", "tue.2", "sat+sun"):
        assert is_day_word(word), word
    for word in ("europe/paris", "utc", "office-hours", "holidays:12-25", "08:00-19:00",
                 "enforced", "america/montevideo"):
        assert not is_day_word(word), word


def test_conditions_of_one_period_must_all_hold() -> None:
    """`mon-fri monthdays:1-7`: the first weekdays of a month (AWS Instance Scheduler: every
    condition of a period must be true)."""
    rule = parse_day_word("mon-fri").merged(parse_day_word("monthdays:1-7"), "monthdays:1-7")
    assert days_in_rule(rule, 2026, 12) == [1, 2, 3, 4, 7]
    with pytest.raises(DaysError, match="already has its weekdays"):
        rule.merged(parse_day_word("sat"), "sat")
    with_months = rule.merged(parse_day_word("months:jan"), "months:jan")
    assert days_in_rule(with_months, 2026, 12) == []
    assert days_in_rule(with_months, 2027, 1) == [1, 4, 5, 6, 7]


def days_in_rule(rule: DayRule, year: int, month: int) -> list[int]:
    length = calendar.monthrange(year, month)[1]
    return [d for d in range(1, length + 1) if rule.matches(date(year, month, d))]


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
       st.integers(min_value=0, max_value=6), st.integers(min_value=1, max_value=5))
def test_the_nth_weekday_is_the_nth_of_its_kind_in_the_month(day: date, weekday: int,
                                                             n: int) -> None:
    same = [d for d in range(1, calendar.monthrange(day.year, day.month)[1] + 1)
            if date(day.year, day.month, d).weekday() == weekday]
    assert DayRule(nth=frozenset({(weekday, n)})).matches(day) is (
        day.weekday() == weekday and len(same) >= n and same[n - 1] == day.day)
    assert DayRule(nth=frozenset({(weekday, LAST)})).matches(day) is (
        day.weekday() == weekday and same[-1] == day.day)


@given(st.integers(min_value=2000, max_value=2100), st.integers(min_value=1, max_value=12),
       st.integers(min_value=1, max_value=31))
def test_the_nearest_weekday_is_a_weekday_of_the_same_month_within_two_days(
        year: int, month: int, wanted: int) -> None:
    found = nearest_weekday(year, month, wanted)
    length = calendar.monthrange(year, month)[1]
    if wanted > length:
        assert found is None
        return
    assert found is not None
    assert 1 <= found <= length
    assert date(year, month, found).weekday() < 5
    assert abs(found - wanted) <= 2
    if date(year, month, wanted).weekday() < 5:
        assert found == wanted
    assert date(year, month, wanted) - date(year, month, found) in {
        timedelta(days=k) for k in range(-2, 3)}


def test_month_range_agrees_with_the_calendar_module() -> None:
    import calendar

    from instance_scheduler.days import _month_range

    assert all(_month_range(year, month) == calendar.monthrange(year, month)
               for year in range(1990, 2111) for month in range(1, 13))
