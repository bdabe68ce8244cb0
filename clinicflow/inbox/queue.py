"""The live queue, as the page and the API both show it, and the version its 3-second refresh compares.

The refresh of an unchanged queue must cost almost nothing (twenty receptionists poll it every 3 seconds),
so a rendered queue carries a version: what one aggregate query says about the waiting inquiries (their
count and newest change), plus the moment until which the timers on the screen stay right by themselves
(the next opening, closing or break of a branch shown: the clock there starts or stops, and only the
server knows). A refresh that brings the same version back before that moment gets an empty answer.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q
from django.utils import timezone

from clinicflow import gates
from clinicflow.clinic.calendar import BranchCalendar
from clinicflow.clinic.models import Branch, ClosedDay
from clinicflow.tasks.models import Task

from .access import inquiries_at_work
from .models import Inquiry

QUEUE_ROWS = 50
# Even an unchanged queue is rendered again this often: what the version cannot see (a patient's name edited
# on the card, a branch's hours changed in Settings) reaches the screen within this time.
FULL_REFRESH_AT_LEAST = timedelta(minutes=10)
# How far ahead to look for a branch's next opening or closing (a long holiday, a week of closed days).
CLOCK_HORIZON_DAYS = 31


@dataclass
class QueueRow:
    inquiry: Inquiry
    waited_seconds: float  # working seconds since it arrived
    branch_open: bool
    clock_starts_at: datetime | None  # the branch is closed: when its clock runs again (local time)
    zone_label: str  # the branch's zone, when it is not the viewer's; "" otherwise
    starts_later_day: bool = False  # the clock starts on another day than today (there): name the day

    @property
    def clock_not_started(self) -> bool:
        """Arrived outside the working hours and nobody could have answered yet: say when the clock starts."""
        return not self.branch_open and self.waited_seconds < 1 and self.clock_starts_at is not None


@dataclass
class Queue:
    rows: list[QueueRow]
    total: int
    unread: int
    newest_id: int
    target_seconds: int
    version: str = ""

    @property
    def target_minutes(self) -> int:
        return self.target_seconds // 60


def queue_for(user, now=None, limit: int = QUEUE_ROWS) -> Queue:
    """Most urgent first across branches: by the moment the response target runs out in each branch's
    working hours, so a form sent at night in one zone does not push down a call waiting in another.
    A fixed number of queries however long the queue is."""
    now = now or timezone.now()
    waiting = inquiries_at_work(user).waiting()
    counts = waiting.aggregate(total=Count("id"), unread=Count("id", filter=Q(status=Inquiry.Status.NEW)),
                               newest=Max("id"), changed=Max("changed_at"))
    inquiries = list(
        waiting.select_related("patient", "specialty", "service", "taken_by")
        .prefetch_related("patient__identities")
        .annotate(missed_call=Exists(Task.objects.open().filter(inquiry=OuterRef("pk"), kind=Task.Kind.CALLBACK)))
        .most_urgent_first()[:limit])
    viewer_branch_ids = gates.work_branch_ids(user) or set()
    branches = _branches_with_hours({i.branch_id for i in inquiries} | viewer_branch_ids, now)
    viewer_zone = _viewer_zone(branches, viewer_branch_ids)
    calendars = {pk: branch.calendar() for pk, branch in branches.items()}
    rows, until = [], now + FULL_REFRESH_AT_LEAST
    for inquiry in inquiries:
        inquiry.branch = branches[inquiry.branch_id]  # already loaded: no query per row
        calendar = calendars[inquiry.branch_id]
        is_open = calendar.is_open_at(now)
        change = next_clock_change(calendar, now)
        until = min(until, change) if change else until
        rows.append(QueueRow(
            inquiry, calendar.working_seconds_between(inquiry.received_at, now), is_open,
            clock_starts_at=None if is_open or change is None else change.astimezone(calendar.zone),
            zone_label="" if inquiry.branch.time_zone == viewer_zone else zone_label(inquiry.branch.time_zone, now),
            starts_later_day=bool(change) and change.astimezone(calendar.zone).date() != now.astimezone(
                calendar.zone).date()))
    state = _state(counts["total"], counts["changed"], counts["newest"])
    return Queue(rows=rows, total=counts["total"], unread=counts["unread"], newest_id=counts["newest"] or 0,
                 target_seconds=settings.CLINICFLOW_RESPONSE_TARGET_MINUTES * 60,
                 version=f"{state}~{int(until.timestamp())}")


def queue_unchanged(user, version: str, now=None) -> bool:
    """Does the screen holding `version` still show the user's queue right? One aggregate query."""
    state, _sep, until = version.partition("~")
    now = now or timezone.now()
    if not until.isdigit() or now.timestamp() >= int(until):
        return False  # a clock started or stopped since (or the version is not one of ours): render again
    counts = inquiries_at_work(user).waiting().aggregate(total=Count("id"), changed=Max("changed_at"),
                                                         newest=Max("id"))
    return state == _state(counts["total"], counts["changed"], counts["newest"])


def _state(total: int, changed: datetime | None, newest: int | None) -> str:
    # A change moves the newest changed_at, an arrival the newest id too (even within one clock tick), and an
    # inquiry leaving the queue lowers the count: only together do they change.
    return f"{total}.{newest or 0}.{int(changed.timestamp() * 1_000_000) if changed else 0}"


def next_clock_change(calendar: BranchCalendar, now: datetime) -> datetime | None:
    """The next moment the branch opens or closes (a break counts): its timers start or stop then."""
    day = now.astimezone(calendar.zone).date()
    for _ in range(CLOCK_HORIZON_DAYS):
        for opens, closes in calendar.intervals_on(day):
            if opens > now:
                return opens
            if closes > now:
                return closes
        day += timedelta(days=1)
    return None


def zone_label(time_zone: str, now: datetime) -> str:
    """A zone as people say it: the city of its name and its offset from UTC ("Novosibirsk, UTC+7")."""
    offset = now.astimezone(Branch(time_zone=time_zone).zone).utcoffset() or timedelta()
    seconds = int(offset.total_seconds())
    hours, rest = divmod(abs(seconds), 3600)
    minutes = f":{rest // 60:02d}" if rest else ""
    city = time_zone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{city}, UTC{'-' if seconds < 0 else '+'}{hours}{minutes}"


def _viewer_zone(branches: dict[int, Branch], viewer_branch_ids: set[int]) -> str:
    """The zone the viewer thinks in: that of their first branch (by name, as every list shows them); for those
    who work for every branch, that of the first branch on the screen. Not the browser's: a receptionist in
    Novosibirsk on a laptop set to Moscow time still answers Novosibirsk's calls in Novosibirsk time."""
    own = [branches[pk] for pk in viewer_branch_ids if pk in branches] or list(branches.values())
    return min(own, key=lambda b: b.name).time_zone if own else settings.TIME_ZONE


def _branches_with_hours(branch_ids: set[int], now) -> dict[int, Branch]:
    recent_closures = Prefetch("closed_days", ClosedDay.objects.filter(date__gte=now.date() - timedelta(days=400)))
    branches = Branch.objects.filter(pk__in=branch_ids).prefetch_related("working_hours", recent_closures)
    return {branch.pk: branch for branch in branches}
