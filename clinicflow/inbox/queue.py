"""The live queue, as the page and the API both show it."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Prefetch, Q
from django.utils import timezone

from clinicflow.clinic.models import Branch, ClosedDay

from .access import inquiries_at_work
from .models import Inquiry

QUEUE_ROWS = 50


@dataclass
class QueueRow:
    inquiry: Inquiry
    waited_seconds: float  # working seconds since it arrived
    branch_open: bool


@dataclass
class Queue:
    rows: list[QueueRow]
    total: int
    unread: int
    newest_id: int
    target_seconds: int

    @property
    def target_minutes(self) -> int:
        return self.target_seconds // 60


def queue_for(user, now=None, limit: int = QUEUE_ROWS) -> Queue:
    """Oldest-waiting first. A fixed number of queries however long the queue is."""
    now = now or timezone.now()
    waiting = inquiries_at_work(user).waiting()
    counts = waiting.aggregate(total=Count("id"), unread=Count("id", filter=Q(status=Inquiry.Status.NEW)),
                               newest=Max("id"))
    inquiries = list(
        waiting.select_related("patient", "specialty", "service", "taken_by")
        .prefetch_related("patient__identities").order_by("received_at", "id")[:limit])
    branches = _branches_with_hours({i.branch_id for i in inquiries}, now)
    calendars = {pk: branch.calendar() for pk, branch in branches.items()}
    rows = []
    for inquiry in inquiries:
        inquiry.branch = branches[inquiry.branch_id]  # already loaded: no query per row
        calendar = calendars[inquiry.branch_id]
        rows.append(QueueRow(inquiry, calendar.working_seconds_between(inquiry.received_at, now),
                             calendar.is_open_at(now)))
    return Queue(rows=rows, total=counts["total"], unread=counts["unread"], newest_id=counts["newest"] or 0,
                 target_seconds=settings.CLINICFLOW_RESPONSE_TARGET_MINUTES * 60)


def _branches_with_hours(branch_ids: set[int], now) -> dict[int, Branch]:
    recent_closures = Prefetch("closed_days", ClosedDay.objects.filter(date__gte=now.date() - timedelta(days=400)))
    branches = Branch.objects.filter(pk__in=branch_ids).prefetch_related("working_hours", recent_closures)
    return {branch.pk: branch for branch in branches}
