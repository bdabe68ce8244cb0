"""Working-time arithmetic in a branch's own time zone.

The 5-minute response target counts only minutes when the front desk is open: a website form sent at
23:00 is not "late" at 08:01. Weekly hours, lunch breaks, closed days and public holidays all count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayHours:
    opens: time
    closes: time
    break_starts: time | None = None
    break_ends: time | None = None

    def periods(self) -> list[tuple[time, time]]:
        if self.break_starts and self.break_ends and self.opens < self.break_starts < self.break_ends:
            return [(self.opens, self.break_starts), (min(self.break_ends, self.closes), self.closes)]
        return [(self.opens, self.closes)]


@dataclass
class BranchCalendar:
    """A branch's week (weekday 0=Monday -> hours), its closed dates, and its zone."""

    zone: ZoneInfo
    week: dict[int, list[DayHours]]
    closed_dates: set[date] = field(default_factory=set)
    holiday_country: str = ""

    def __post_init__(self):
        self._holidays = {}
        if self.holiday_country:
            try:
                self._holidays = holiday_calendars.country_holidays(self.holiday_country.upper())
            except NotImplementedError:
                # A bad code saved past the validator must not stop the queue: count without holidays.
                log.warning("no public-holiday calendar for %r; counting without holidays", self.holiday_country)

    def is_closed(self, day: date) -> bool:
        return day in self.closed_dates or day in self._holidays

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of one local day, as aware datetimes in the branch zone."""
        if self.is_closed(day):
            return []
        result = []
        for hours in self.week.get(day.weekday(), []):
            for start, end in hours.periods():
                if start < end:
                    result.append((datetime.combine(day, start, self.zone), datetime.combine(day, end, self.zone)))
        return result

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Seconds of open time in [start, end)."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            for opens, closes in self.intervals_on(day):
                overlap = min(closes, end) - max(opens, start)
                total += max(overlap.total_seconds(), 0.0)
            day += timedelta(days=1)
        return total

    def add_working_seconds(self, start: datetime, seconds: float, horizon_days: int = 366) -> datetime | None:
        """The moment when `seconds` of open time have passed since `start` (None if never open)."""
        remaining = seconds
        day = start.astimezone(self.zone).date()
        for _ in range(horizon_days):
            for opens, closes in self.intervals_on(day):
                begin = max(opens, start)
                if begin >= closes:
                    continue
                available = (closes - begin).total_seconds()
                if available >= remaining:
                    return begin + timedelta(seconds=remaining)
                remaining -= available
            day += timedelta(days=1)
        return None

    def is_open_at(self, moment: datetime) -> bool:
        day = moment.astimezone(self.zone).date()
        return any(opens <= moment < closes for opens, closes in self.intervals_on(day))
