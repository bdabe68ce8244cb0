"""Helpers for the demo loader's tests: load it quickly, and the rules any loaded demo must keep."""

from contextlib import contextmanager
from datetime import UTC, datetime
from io import StringIO

from django.core.management import call_command
from django.db.models import Count
from django.test import override_settings

from clinicflow.automation.models import Job
from clinicflow.funnel.models import Case, Stage
from clinicflow.inbox.models import Inquiry

# A Wednesday, 11:30 in Moscow and 15:30 in Novosibirsk: both front desks are open.
WEDNESDAY_MORNING = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


@contextmanager
def fast_passwords():
    """The demo's users are created with real passwords; a fast hasher keeps the tests quick."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def load_demo(*args: str) -> str:
    out = StringIO()
    with fast_passwords():
        call_command("demo", *args, stdout=out)
    return out.getvalue()


def assert_consistent(now: datetime) -> None:
    """The rules every demo keeps, whatever the day and hour it is loaded."""
    for case in Case.objects.prefetch_related("transitions"):
        transitions = list(case.transitions.all())
        assert [t.from_stage for t in transitions] == [""] + [t.to_stage for t in transitions[:-1]]
        assert case.stage == transitions[-1].to_stage
        assert all(t.at <= now for t in transitions)
    open_cases = Case.objects.exclude(stage__in=[Stage.LOST, Stage.CLOSED])
    assert not open_cases.values("patient").annotate(n=Count("id")).filter(n__gt=1).exists()
    waiting_ids = set(Inquiry.objects.waiting().values_list("id", flat=True))
    pending = Job.objects.filter(state=Job.State.PENDING)
    assert {job.payload["inquiry_id"] for job in pending} == waiting_ids
