"""The first answer is due 5 working minutes after an inquiry arrives, in its branch's own hours and zone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from clinicflow.automation.models import Job
from clinicflow.clinic.models import ClosedDay

from .conftest import MOSCOW

NOVOSIBIRSK = ZoneInfo("Asia/Novosibirsk")


def moscow_time(day: int, hour: int, minute: int) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=MOSCOW)


# 12 March 2025 is a Wednesday, 14 March a Friday, 17 March a Monday.
@pytest.mark.parametrize(("received", "due"), [
    (moscow_time(12, 10, 0), moscow_time(12, 10, 5)),
    (moscow_time(12, 12, 58), moscow_time(12, 14, 3)),   # 2 minutes before the break, 3 after it
    (moscow_time(12, 13, 30), moscow_time(12, 14, 5)),   # during the break the clock waits
    (moscow_time(12, 7, 45), moscow_time(12, 9, 5)),     # before opening
    (moscow_time(12, 17, 58), moscow_time(13, 9, 3)),    # closing time: the rest tomorrow morning
    (moscow_time(14, 17, 58), moscow_time(17, 9, 3)),    # Friday evening: Monday morning
    (moscow_time(15, 11, 0), moscow_time(17, 9, 5)),     # Saturday
])
def test_it_counts_only_working_minutes(receive, received, due):
    inquiry = receive(received_at=received)
    assert inquiry.response_due_at == due


def test_it_counts_in_the_branch_own_zone(receive, novosibirsk):
    # 12:58 in Novosibirsk is 08:58 in Moscow: Moscow would be closed, Novosibirsk is about to break.
    inquiry = receive(branch=novosibirsk, received_at=datetime(2025, 3, 12, 12, 58, tzinfo=NOVOSIBIRSK))
    assert inquiry.response_due_at == datetime(2025, 3, 12, 14, 3, tzinfo=NOVOSIBIRSK)


def test_it_sees_the_novosibirsk_evening_when_moscow_is_still_open(receive, novosibirsk):
    # 17:58 in Novosibirsk is 13:58 in Moscow: Novosibirsk closes in 2 minutes.
    inquiry = receive(branch=novosibirsk, received_at=datetime(2025, 3, 14, 17, 58, tzinfo=NOVOSIBIRSK))
    assert inquiry.response_due_at == datetime(2025, 3, 17, 9, 3, tzinfo=NOVOSIBIRSK)


def test_it_skips_a_closed_day(receive, moscow):
    ClosedDay.objects.create(branch=moscow, date=date(2025, 3, 13), reason="Inventory")
    inquiry = receive(received_at=moscow_time(12, 17, 58))
    assert inquiry.response_due_at == moscow_time(14, 9, 3)


def test_it_plans_the_escalation_at_the_due_time(receive):
    inquiry = receive(received_at=moscow_time(12, 12, 58))
    assert Job.objects.get().due_at == moscow_time(12, 14, 3)
    assert inquiry.response_due_at == moscow_time(12, 14, 3)


@pytest.mark.time_machine(datetime(2025, 3, 14, 17, 58, tzinfo=MOSCOW), tick=False)
def test_it_starts_the_clock_when_the_website_sends_the_form(client, moscow):
    response = client.post("/api/v1/public/inquiries", {"phone": "+79161234567", "consent": True},
                           content_type="application/json")
    assert response.status_code == 201
    assert Job.objects.get().due_at == moscow_time(17, 9, 3)


def test_it_plans_no_escalation_for_a_branch_that_never_opens(receive, moscow):
    moscow.working_hours.all().delete()
    inquiry = receive(received_at=moscow_time(12, 10, 0))
    assert inquiry.response_due_at is None
    assert not Job.objects.exists()
