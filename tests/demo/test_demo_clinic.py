"""`clinicflow demo`: an empty database becomes a believable clinic, consistent with the product's rules."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError
from django.db import transaction
from django.db.models import Count, Max, Min
from django.http import HttpRequest

from clinicflow.accounts.models import Role, user_branch_ids, user_roles
from clinicflow.automation.models import Job
from clinicflow.clinic.models import Branch, ClinicSettings, Doctor, Service, Specialty
from clinicflow.compliance.models import Consent
from clinicflow.funnel.models import Case, Stage
from clinicflow.inbox.models import Inquiry
from clinicflow.inbox.queue import queue_for
from clinicflow.patients.models import Channel, Patient, PatientIdentity
from clinicflow.patients.phones import normalize_phone
from clinicflow.scheduling.models import Appointment
from clinicflow.tasks.models import Task

from .conftest import WEDNESDAY_MORNING, assert_consistent, fast_passwords, load_demo


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> str:
    """Loaded once for the whole module, in a transaction rolled back at its end: each test only reads."""
    with django_db_blocker.unblock(), transaction.atomic():
        with time_machine.travel(WEDNESDAY_MORNING, tick=False):
            output = load_demo()
        yield output
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_it_creates_two_branches_in_different_time_zones(demo):
    branches = Branch.objects.all()
    assert len(branches) == 2
    assert len({b.time_zone for b in branches}) == 2
    for branch in branches:
        assert branch.holiday_country == "RU"
        assert branch.working_hours.count() == 6
        assert branch.closed_days.count() == 1
        monday, saturday = branch.working_hours.get(weekday=0), branch.working_hours.get(weekday=5)
        assert [f"{t:%H:%M}" for t in (monday.opens, monday.break_starts, monday.break_ends, monday.closes)] == [
            "08:00", "14:00", "14:30", "20:00"]
        assert (saturday.opens.hour, saturday.closes.hour, saturday.break_starts) == (9, 15, None)


@pytest.mark.django_db
def test_it_creates_the_catalogue(demo):
    assert 8 <= Specialty.objects.count() <= 12
    assert 10 <= Service.objects.count() <= 14
    assert not Service.objects.filter(price__isnull=True).exists()
    assert 7 <= Doctor.objects.count() <= 10
    for branch in Branch.objects.all():
        assert branch.doctors.count() >= 3


@pytest.mark.django_db
def test_the_printed_logins_work(demo, client):
    assert "reception / reception-demo" in demo and "admin / admin-demo" in demo
    with fast_passwords():
        # The log-in lockout (django-axes) needs the request a real log-in has.
        assert client.login(request=HttpRequest(), username="reception", password="reception-demo")
        assert client.login(request=HttpRequest(), username="admin", password="admin-demo")
    reception = User.objects.get(username="reception")
    assert user_roles(reception) == {Role.RECEPTIONIST}
    assert user_branch_ids(reception) == {Branch.objects.get(time_zone="Europe/Moscow").pk}
    assert user_branch_ids(User.objects.get(username="admin")) is None
    assert {Role(r) for u in User.objects.all() for r in user_roles(u)} == set(Role)


@pytest.mark.django_db
def test_about_300_patients_with_valid_phones_and_service_consent(demo):
    assert 280 <= Patient.objects.count() <= 320
    phones = PatientIdentity.objects.filter(channel=Channel.PHONE).values_list("address", flat=True)
    assert all(phone.startswith("+79") and normalize_phone(phone) == phone for phone in phones)
    assert not Patient.objects.exclude(consents__purpose=Consent.Purpose.SERVICE).exists()
    assert not Patient.objects.exclude(identities__channel=Channel.PHONE).exists()
    assert Patient.objects.exclude(email="").count() > 50
    assert all(n > 80 for n in Patient.objects.values("branch").annotate(n=Count("id")).values_list("n", flat=True))


@pytest.mark.django_db
def test_inquiries_span_the_last_90_days_over_every_channel(demo):
    span = Inquiry.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    assert span["last"] - span["first"] >= timedelta(days=85)
    assert span["last"] <= WEDNESDAY_MORNING
    assert set(Inquiry.objects.values_list("channel", flat=True)) >= {"phone", "web", "whatsapp", "telegram"}
    assert set(Inquiry.objects.values_list("utm_source", flat=True)) >= {"yandex", "google", "instagram", "2gis", "vk"}


@pytest.mark.django_db
def test_most_answers_come_within_minutes_and_late_ones_were_escalated(demo):
    answered = Inquiry.objects.filter(first_response_at__isnull=False)
    late = [i for i in answered if i.first_response_at > i.response_due_at]
    assert 0.05 < len(late) / len(answered) < 0.5
    assert Task.objects.filter(kind=Task.Kind.ESCALATION, done_at__isnull=False).count() == len(late)


@pytest.mark.django_db
def test_the_live_queue_has_recent_inquiries_waiting(demo):
    queue = queue_for(User.objects.get(username="manager"), now=WEDNESDAY_MORNING)
    assert 8 <= queue.total <= 15
    assert all(WEDNESDAY_MORNING - row.inquiry.received_at < timedelta(hours=12) for row in queue.rows)
    assert Job.objects.filter(state=Job.State.PENDING).count() == queue.total
    assert queue_for(User.objects.get(username="reception"), now=WEDNESDAY_MORNING).total > 0


@pytest.mark.django_db
def test_cases_reach_every_stage_and_each_stage_matches_its_last_transition(demo):
    assert set(Case.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert not Case.objects.filter(stage=Stage.LOST, lost_reason="").exists()
    assert_consistent(WEDNESDAY_MORNING)


@pytest.mark.django_db
def test_past_visits_have_outcomes_with_a_realistic_no_show_ratio(demo):
    past = Appointment.objects.filter(starts_at__lt=WEDNESDAY_MORNING)
    visits = past.filter(status__in=[Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW])
    ratio = visits.filter(status=Appointment.Status.NO_SHOW).count() / visits.count()
    assert 0.15 <= ratio <= 0.25
    assert f"({ratio:.1%})" in demo
    assert past.filter(status=Appointment.Status.CANCELLED).exists()
    assert not past.filter(status__in=[Appointment.Status.BOOKED, Appointment.Status.CONFIRMED]).exists()
    future = Appointment.objects.filter(starts_at__gt=WEDNESDAY_MORNING)
    assert set(future.values_list("status", flat=True)) == {Appointment.Status.BOOKED, Appointment.Status.CONFIRMED}
    assert Appointment.objects.filter(is_primary=False).count() > 50


@pytest.mark.django_db
def test_there_are_open_tasks_some_of_them_overdue(demo):
    assert Task.objects.open().count() >= 4
    assert Task.objects.overdue(WEDNESDAY_MORNING).count() >= 2


@pytest.mark.django_db
def test_a_second_run_refuses_without_duplicating_in_the_clinics_language(demo):
    patients = Patient.objects.count()
    ClinicSettings.objects.filter(pk=1).update(default_language="en")
    with pytest.raises(CommandError, match=r"already has a clinic \(2 branches\)"):
        load_demo()
    assert Branch.objects.count() == 2
    assert Patient.objects.count() == patients




@pytest.mark.django_db
def test_every_doctor_has_a_local_schedule_and_the_demo_can_book_a_free_slot(demo):
    from clinicflow.clinic.models import ClinicSettings
    from clinicflow.scheduling.services import appointment_book
    from clinicflow.scheduling.slots import free_slots

    assert ClinicSettings.load().widget_offers_slots
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        for doctor in Doctor.objects.prefetch_related("branches"):
            assert doctor.hours.count() == 6
            branch = doctor.branches.get()
            slots = free_slots(branch=branch, doctor=doctor, start=WEDNESDAY_MORNING,
                               end=WEDNESDAY_MORNING + timedelta(days=7))
            assert slots, doctor
        patient = Patient.objects.filter(branch=branch).first()
        booked = appointment_book(patient=patient, doctor=doctor, branch=branch, starts_at=slots[0].starts_at)
        assert booked.status == Appointment.Status.BOOKED
