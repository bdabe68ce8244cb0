"""The response clock counts working time only, in the branch's own zone."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinicflow.clinic.calendar import BranchCalendar, DayHours
from clinicflow.clinic.models import ClosedDay

MSK = ZoneInfo("Europe/Moscow")
NSK = ZoneInfo("Asia/Novosibirsk")
WEEKDAY = DayHours(time(9), time(18), time(13), time(14))


def week(zone=MSK, **kwargs) -> BranchCalendar:
    return BranchCalendar(zone=zone, week={d: [WEEKDAY] for d in range(5)}, **kwargs)


def at(y, m, d, hh, mm=0, zone=MSK) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=zone)


# 2026-11-23 is a Monday.

def test_it_counts_plain_working_minutes():
    assert week().working_seconds_between(at(2026, 11, 23, 10), at(2026, 11, 23, 10, 5)) == 300


def test_it_does_not_count_the_lunch_break():
    assert week().working_seconds_between(at(2026, 11, 23, 12, 58), at(2026, 11, 23, 14, 3)) == 5 * 60
    assert week().add_working_seconds(at(2026, 11, 23, 12, 58), 300) == at(2026, 11, 23, 14, 3)


def test_it_does_not_count_the_night():
    assert week().working_seconds_between(at(2026, 11, 23, 17, 58), at(2026, 11, 24, 9, 3)) == 5 * 60


def test_it_skips_the_weekend():
    friday_evening = at(2026, 11, 27, 17, 58)
    assert week().add_working_seconds(friday_evening, 300) == at(2026, 11, 30, 9, 3)


def test_an_inquiry_at_night_starts_counting_at_opening():
    assert week().add_working_seconds(at(2026, 11, 23, 23, 0), 300) == at(2026, 11, 24, 9, 5)


def test_it_skips_closed_days():
    calendar = week(closed_dates={date(2026, 11, 24)})
    assert calendar.add_working_seconds(at(2026, 11, 23, 17, 58), 300) == at(2026, 11, 25, 9, 3)
    assert not calendar.is_open_at(at(2026, 11, 24, 10))


def test_it_skips_public_holidays_of_the_branch_country():
    # 4 November is National Unity Day in Russia (a Wednesday in 2026).
    calendar = week(holiday_country="RU")
    assert calendar.add_working_seconds(at(2026, 11, 3, 17, 58), 300) == at(2026, 11, 5, 9, 3)


def test_another_zone_counts_in_its_own_hours():
    # 10:00 in Novosibirsk is 06:00 in Moscow: Novosibirsk is open, Moscow is not.
    moment = at(2026, 11, 23, 10, 0, zone=NSK)
    assert week(zone=NSK).is_open_at(moment)
    assert not week(zone=MSK).is_open_at(moment)
    assert week(zone=NSK).add_working_seconds(moment, 300) == moment + timedelta(minutes=5)


def test_a_branch_that_never_opens_has_no_due_time():
    assert BranchCalendar(zone=MSK, week={}).add_working_seconds(at(2026, 11, 23, 10), 300) is None


def test_an_empty_or_reversed_span_is_zero():
    assert week().working_seconds_between(at(2026, 11, 23, 11), at(2026, 11, 23, 10)) == 0


@pytest.mark.django_db
def test_a_branch_builds_its_calendar_from_hours_and_closed_days(moscow):
    ClosedDay.objects.create(branch=moscow, date=date(2026, 11, 24), reason="Sanitary day")
    calendar = moscow.calendar()
    assert calendar.intervals_on(date(2026, 11, 23)) == [
        (at(2026, 11, 23, 9), at(2026, 11, 23, 13)), (at(2026, 11, 23, 14), at(2026, 11, 23, 18))]
    assert calendar.intervals_on(date(2026, 11, 24)) == []
    assert calendar.intervals_on(date(2026, 11, 28)) == []  # Saturday: no hours


@pytest.mark.django_db
def test_working_hours_reject_a_break_outside_the_day(moscow):
    from django.core.exceptions import ValidationError

    row = moscow.working_hours.first()
    row.break_starts, row.break_ends = time(19), time(20)
    with pytest.raises(ValidationError):
        row.full_clean()


def test_an_unknown_holiday_country_does_not_stop_the_clock():
    assert week(holiday_country="XX").add_working_seconds(at(2026, 11, 23, 10), 300) == at(2026, 11, 23, 10, 5)


@pytest.mark.django_db
def test_a_branch_refuses_an_unknown_holiday_country(moscow):
    from django.core.exceptions import ValidationError

    moscow.holiday_country = "XX"
    with pytest.raises(ValidationError, match="No public-holiday calendar"):
        moscow.full_clean()
