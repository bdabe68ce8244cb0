"""Load the demo clinic into an empty database, and describe what was loaded."""

from datetime import datetime
from random import Random

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from clinicflow.automation.models import Job
from clinicflow.clinic.models import Branch, Doctor, Service, Specialty
from clinicflow.funnel.models import Case, CaseTransition, Stage
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.patients.models import Patient
from clinicflow.scheduling.models import Appointment
from clinicflow.tasks.models import Task

from .clinic import USERNAMES, clinic_create
from .history import History

PATIENTS = 300
WAITING = 12


class DemoRefused(Exception):
    """The database is not empty: the demo would mix with real data, or with itself."""


def demo_refusal() -> str | None:
    """Why the demo must not be loaded here, or None: it only ever goes into an empty clinic."""
    if Branch.objects.exists():
        return (f"The database already has a clinic ({Branch.objects.count()} branches); the demo loads only "
                f"into an empty one. Point CLINICFLOW_DATA_DIR or DATABASE_URL at a fresh database.")
    taken = sorted(User.objects.filter(username__in=USERNAMES).values_list("username", flat=True))
    if taken:
        return f"The demo's user names are taken already ({', '.join(taken)}); load it into a fresh database."
    return None


def demo_load(*, seed: int, now: datetime | None = None) -> datetime:
    """Create the clinic and its last 90 days in one transaction; the same seed gives the same clinic."""
    now = (now or timezone.now()).replace(microsecond=0)
    with transaction.atomic():
        # Checked inside the transaction: SQLite holds its write lock from the start; on PostgreSQL a load
        # that raced past the check fails on the unique branch names instead of duplicating the clinic.
        refusal = demo_refusal()
        if refusal:
            raise DemoRefused(refusal)
        clinic = clinic_create(now.date())
        History(clinic, Random(seed), now).write(patients=PATIENTS, waiting=WAITING)
    return now


def no_show_ratio(now: datetime) -> tuple[int, int]:
    """(no-shows, completed + no-shows) among visits that started before `now`."""
    past = Appointment.objects.filter(starts_at__lt=now, status__in=["completed", "no_show"])
    return past.filter(status="no_show").count(), past.count()


def demo_summary(now: datetime) -> list[tuple[str, str]]:
    inquiries = Inquiry.objects.aggregate(total=Count("id"), first=Min("received_at"), last=Max("received_at"),
                                          on_time=Count("id", filter=Q(first_response_at__lte=F("response_due_at"))),
                                          answered=Count("first_response_at"))
    no_shows, visits = no_show_ratio(now)
    appointments = dict(Appointment.objects.values_list("status").annotate(n=Count("id")))
    stages = dict(Case.objects.values_list("stage").annotate(n=Count("id")))
    tasks = Task.objects.open()
    days = (inquiries["last"] - inquiries["first"]).days if inquiries["total"] else 0
    return [
        ("Branches", ", ".join(f"{b.name} ({b.time_zone})" for b in Branch.objects.all())),
        ("Specialties / services / doctors",
         f"{Specialty.objects.count()} / {Service.objects.count()} / {Doctor.objects.count()}"),
        ("Staff users", ", ".join(USERNAMES)),
        ("Patients", f"{Patient.objects.count()} ({Patient.objects.exclude(email='').count()} with e-mail)"),
        ("Inquiries", f"{inquiries['total']} over {days} days; {inquiries['on_time']} of {inquiries['answered']} "
                      f"answered within the target"),
        ("Waiting in the queue", str(Inquiry.objects.waiting().count())),
        ("Cases by stage", ", ".join(f"{stage} {stages.get(stage, 0)}" for stage in Stage.values)),
        ("Stage changes / messages", f"{CaseTransition.objects.count()} / {Message.objects.count()}"),
        ("Appointments by status", ", ".join(f"{status} {n}" for status, n in sorted(appointments.items()))),
        ("No-shows among past visits", f"{no_shows} of {visits} ({no_shows / max(visits, 1):.1%})"),
        ("Returning-patient visits", str(Appointment.objects.filter(is_primary=False).count())),
        ("Open tasks", f"{tasks.count()} ({tasks.overdue(now).count()} overdue)"),
        ("Pending jobs", str(Job.objects.filter(state=Job.State.PENDING).count())),
    ]
