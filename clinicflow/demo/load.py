"""Load the demo clinic into an empty database, and describe what was loaded."""

from datetime import datetime
from random import Random

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinicflow.automation.models import Job
from clinicflow.clinic.models import Branch, ClinicSettings, Doctor, Service, Specialty
from clinicflow.funnel.models import Case, CaseTransition, Stage
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.patients.models import Patient
from clinicflow.scheduling.models import Appointment
from clinicflow.tasks.models import Task

from .clinic import LANGUAGE, USERNAMES, clinic_create
from .history import History

PATIENTS = 300
WAITING = 12


class DemoRefused(Exception):
    """The database is not empty: the demo would mix with real data, or with itself."""


def demo_refusal() -> str | None:
    """Why the demo must not be loaded here, or None: it only ever goes into an empty clinic."""
    branches = Branch.objects.count()
    if branches:
        return ngettext(
            "The database already has a clinic (%(count)s branch); the demo loads only into an empty one. Point "
            "CLINICFLOW_DATA_DIR or DATABASE_URL at a fresh database.",
            "The database already has a clinic (%(count)s branches); the demo loads only into an empty one. Point "
            "CLINICFLOW_DATA_DIR or DATABASE_URL at a fresh database.", branches) % {"count": branches}
    taken = sorted(User.objects.filter(username__in=USERNAMES).values_list("username", flat=True))
    if taken:
        return _("The demo's user names are taken already (%(names)s); load it into a fresh database.") % {
            "names": ", ".join(taken)}
    return None


def clinic_language() -> str:
    """The language the demo speaks to whoever loads it: the clinic's default, or the demo's own."""
    chosen = ClinicSettings.objects.filter(pk=1).values_list("default_language", flat=True).first()
    return chosen or LANGUAGE


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
        # What the product itself writes into the story (a lost reason, "Appointment booked") is written in
        # the clinic's language, as its services would write it for a Russian front desk.
        with translation.override(LANGUAGE):
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
        (_("Branches"), "; ".join(f"{b.name} ({b.time_zone})" for b in Branch.objects.all())),
        (_("Specialties / services / doctors"),
         f"{Specialty.objects.count()} / {Service.objects.count()} / {Doctor.objects.count()}"),
        (_("Staff users"), ", ".join(USERNAMES)),
        (_("Patients"), _("%(patients)s (%(with_email)s with e-mail)") % {
            "patients": Patient.objects.count(), "with_email": Patient.objects.exclude(email="").count()}),
        (_("Inquiries"), ngettext(
            "%(inquiries)s over %(days)s day; %(on_time)s of %(answered)s answered within the target",
            "%(inquiries)s over %(days)s days; %(on_time)s of %(answered)s answered within the target", days) % {
            "inquiries": inquiries["total"], "days": days, "on_time": inquiries["on_time"],
            "answered": inquiries["answered"]}),
        (_("Waiting in the queue"), str(Inquiry.objects.waiting().count())),
        (_("Cases by stage"), ", ".join(f"{label} {stages.get(stage, 0)}" for stage, label in Stage.choices)),
        (_("Stage changes / messages"), f"{CaseTransition.objects.count()} / {Message.objects.count()}"),
        (_("Appointments by status"), ", ".join(
            f"{Appointment.Status(status).label} {n}" for status, n in sorted(appointments.items()))),
        (_("No-shows among past visits"), _("%(no_shows)s of %(visits)s (%(share)s)") % {
            "no_shows": no_shows, "visits": visits, "share": f"{no_shows / max(visits, 1):.1%}"}),
        (_("Returning-patient visits"), str(Appointment.objects.filter(is_primary=False).count())),
        (_("Open tasks"), _("%(open)s (%(overdue)s overdue)") % {
            "open": tasks.count(), "overdue": tasks.overdue(now).count()}),
        (_("Pending jobs"), str(Job.objects.filter(state=Job.State.PENDING).count())),
    ]
