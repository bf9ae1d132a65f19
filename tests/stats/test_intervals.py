"""Aggregation intervals: ISO 8601 durations and lastIntervalBehavior."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from eoaccess.errors import InvalidInputError
from eoaccess.stats._intervals import parse_duration, split_intervals, time_range


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "months", "days", "seconds"),
    [
        ("P1D", 0, 1, 0),
        ("P5D", 0, 5, 0),
        ("P1W", 0, 7, 0),
        ("P1M", 1, 0, 0),
        ("P1Y", 12, 0, 0),
        ("p2w", 0, 14, 0),
        ("PT6H", 0, 0, 21600),
        ("P1DT12H", 0, 1, 43200),
    ],
)
def test_durations(text: str, months: int, days: int, seconds: int) -> None:
    duration = parse_duration(text)
    assert (duration.months, duration.days, duration.seconds) == (months, days, seconds)


@pytest.mark.parametrize("text", ["", "P", "1D", "P1X", "PT", "P0D", "P-1D", "P1.5D", "daily"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidInputError, match="interval"):
        parse_duration(text)


def test_seed_month_of_days() -> None:
    intervals = split_intervals(utc(2023, 11, 1), utc(2023, 12, 1), "P1D")
    assert len(intervals) == 30
    assert intervals[0].to_json() == {"from": "2023-11-01T00:00:00Z", "to": "2023-11-02T00:00:00Z"}
    assert intervals[-1].to_json() == {"from": "2023-11-30T00:00:00Z", "to": "2023-12-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("behaviour", "last_end", "count"),
    [
        ("SKIP", utc(2023, 11, 26), 5),
        ("SHORTEN", utc(2023, 11, 28), 6),
        ("EXTEND", utc(2023, 12, 1), 6),
    ],
)
def test_last_interval_behaviour(behaviour: str, last_end: datetime, count: int) -> None:
    intervals = split_intervals(utc(2023, 11, 1), utc(2023, 11, 28), "P5D", behaviour)
    assert len(intervals) == count
    assert intervals[-1].end == last_end
    assert all(a.end == b.start for a, b in itertools.pairwise(intervals))


def test_default_is_skip_and_short_ranges_can_be_empty() -> None:
    assert split_intervals(utc(2023, 11, 1), utc(2023, 11, 4), "P1W") == ()
    assert len(split_intervals(utc(2023, 11, 1), utc(2023, 11, 4), "P1W", "shorten")) == 1


def test_months_step_by_calendar_from_the_start() -> None:
    intervals = split_intervals(utc(2024, 1, 31), utc(2024, 5, 31), "P1M")
    assert [i.start.date().isoformat() for i in intervals] == [
        "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"
    ]  # fmt: skip
    assert intervals[-1].end == utc(2024, 5, 31)


def test_half_open_intervals() -> None:
    first, second = split_intervals(utc(2023, 11, 1), utc(2023, 11, 3), "P1D")
    midnight = utc(2023, 11, 2)
    assert not first.contains(midnight) and second.contains(midnight)


def test_time_range_ends() -> None:
    # A date at the end includes that whole day; an instant is the exclusive end.
    assert time_range("2023-11-01/2023-11-30") == (utc(2023, 11, 1), utc(2023, 12, 1))
    assert time_range("2023-11-01T00:00:00Z/2023-12-01T00:00:00Z") == (
        utc(2023, 11, 1),
        utc(2023, 12, 1),
    )
    assert time_range("2023-11") == (utc(2023, 11, 1), utc(2023, 12, 1))
    with pytest.raises(InvalidInputError, match="open"):
        time_range("2023-11-01/..")
    with pytest.raises(InvalidInputError, match="lastIntervalBehavior"):
        split_intervals(utc(2023, 11, 1), utc(2023, 11, 3), "P1D", "DROP")


def test_too_many_intervals() -> None:
    with pytest.raises(InvalidInputError, match="more than 10000 intervals"):
        split_intervals(utc(1900, 1, 1), utc(2100, 1, 1), "P1D")
