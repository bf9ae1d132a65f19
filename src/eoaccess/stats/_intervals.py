"""Aggregation intervals: a time range cut into ISO 8601 durations (``P1D``, ``P5D``, ``P1W``, ``P1M``).

Intervals are half-open ``[from, to)`` and start at the range's start; interval ``i`` runs from
``start + i × duration`` to ``start + (i + 1) × duration`` (months and years step by calendar,
clamping the day: 31 January + P1M is 28/29 February). A last interval that would end after the
range is handled as the Statistical API's ``lastIntervalBehavior`` says: ``SKIP`` drops it (the
default), ``SHORTEN`` ends it at the range's end, ``EXTEND`` keeps its full length.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from eoaccess.errors import InvalidInputError
from eoaccess.query import format_datetime, parse_datetime

MAX_INTERVALS = 10_000

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


class LastInterval(StrEnum):
    """What happens to a last interval that does not fit the range."""

    SKIP = "SKIP"
    SHORTEN = "SHORTEN"
    EXTEND = "EXTEND"


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration with calendar months and exact days and seconds."""

    text: str
    """As written (upper case)."""
    months: int
    """Calendar months (years × 12 included)."""
    days: int
    """Days (weeks × 7 included)."""
    seconds: int

    def after(self, start: datetime, steps: int) -> datetime:
        """``start`` plus ``steps`` times this duration."""
        moment = start
        if self.months:
            total = start.month - 1 + self.months * steps
            year, month = start.year + total // 12, total % 12 + 1
            day = min(start.day, calendar.monthrange(year, month)[1])
            moment = start.replace(year=year, month=month, day=day)
        return moment + timedelta(days=self.days * steps, seconds=self.seconds * steps)


def parse_duration(text: str) -> Duration:
    """Parse ``P1D``, ``P5D``, ``P1W``, ``P1M``, ``P1Y``, ``PT6H``…; zero durations are errors."""
    value = text.strip().upper() if isinstance(text, str) else ""
    match = _DURATION.match(value)
    if match is None:
        raise InvalidInputError(
            f"invalid aggregation interval {text!r}: use an ISO 8601 duration such as "
            "P1D, P5D, P1W or P1M"
        )
    parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    duration = Duration(
        value,
        parts["years"] * 12 + parts["months"],
        parts["weeks"] * 7 + parts["days"],
        parts["hours"] * 3600 + parts["minutes"] * 60 + parts["seconds"],
    )
    if not (duration.months or duration.days or duration.seconds):
        raise InvalidInputError(f"aggregation interval {text!r} is zero")
    return duration


def parse_last_interval(value: str | None) -> LastInterval:
    if value is None:
        return LastInterval.SKIP
    try:
        return LastInterval(str(value).upper())
    except ValueError:
        choices = ", ".join(b.value for b in LastInterval)
        raise InvalidInputError(
            f"invalid lastIntervalBehavior {value!r}; use one of {choices}"
        ) from None


@dataclass(frozen=True)
class TimeInterval:
    """One aggregation interval ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def to_json(self) -> dict[str, str]:
        """The Statistical API's ``interval`` object."""
        return {"from": format_datetime(self.start), "to": format_datetime(self.end)}


def time_range(value: Any) -> tuple[datetime, datetime]:
    """A closed time range (``A/B`` text, a pair…) as ``[start, end)``.

    A date, month or year at the end includes all of it (``2023-11-01/2023-11-30`` ends at
    2023-12-01T00:00Z); an explicit instant at the end is the exclusive end, as in the
    Statistical API.
    """
    interval = parse_datetime(value)
    if interval.start is None or interval.end is None:
        raise InvalidInputError("statistics need a closed time range A/B, not an open one")
    end = interval.end
    if end.microsecond == 999_999 and end.second == 59:  # the last instant of a day/month/year
        end += timedelta(microseconds=1)
    if end <= interval.start:
        raise InvalidInputError(f"the time range {value!r} is empty")
    return interval.start, end


def split_intervals(
    start: datetime,
    end: datetime,
    duration: Duration | str,
    last: LastInterval | str | None = None,
) -> tuple[TimeInterval, ...]:
    """The aggregation intervals of ``[start, end)``."""
    step = parse_duration(duration) if isinstance(duration, str) else duration
    behaviour = last if isinstance(last, LastInterval) else parse_last_interval(last)
    if end <= start:
        raise InvalidInputError(
            f"the time range {format_datetime(start)}/{format_datetime(end)} is empty"
        )
    intervals: list[TimeInterval] = []
    i = 0
    while True:
        lower = step.after(start, i)
        if lower >= end:
            break
        upper = step.after(start, i + 1)
        if upper > end:
            if behaviour is LastInterval.SHORTEN:
                intervals.append(TimeInterval(lower, end))
            elif behaviour is LastInterval.EXTEND:
                intervals.append(TimeInterval(lower, upper))
            break
        intervals.append(TimeInterval(lower, upper))
        i += 1
        if len(intervals) > MAX_INTERVALS:
            raise InvalidInputError(
                f"{step.text} over {format_datetime(start)}/{format_datetime(end)} makes more "
                f"than {MAX_INTERVALS} intervals; use a longer interval or a shorter range"
            )
    return tuple(intervals)
