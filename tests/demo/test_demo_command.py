"""`clinicflow demo` into databases that are not the usual empty Wednesday morning."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError
from django.db import transaction

from clinicflow.clinic.models import Branch
from clinicflow.inbox.models import Inquiry
from clinicflow.patients.models import PatientIdentity
from clinicflow.scheduling.models import Appointment

from .conftest import WEDNESDAY_MORNING, assert_consistent, load_demo


@pytest.mark.django_db
def test_it_refuses_when_a_demo_user_name_is_taken():
    User.objects.create_user("admin", password="someone-elses")
    with pytest.raises(CommandError, match="admin"):
        load_demo()
    assert not Branch.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("now", [
    datetime(2026, 11, 29, 0, 30, tzinfo=UTC),  # Sunday night in Moscow, Sunday morning in Novosibirsk
    datetime(2027, 1, 8, 17, 0, tzinfo=UTC),  # the last evening of the New Year holidays
], ids=["sunday-night", "new-year-holidays"])
def test_it_stays_consistent_whenever_it_is_loaded(now):
    with time_machine.travel(now, tick=False):
        output = load_demo("--seed", "11")
    assert "reception / reception-demo" in output
    assert_consistent(now)
    assert Inquiry.objects.waiting().count() >= 3


def fingerprint() -> list:
    return [
        list(PatientIdentity.objects.order_by("address").values_list("address", "patient__full_name")),
        list(Inquiry.objects.order_by("received_at", "channel").values_list("received_at", "channel", "status")),
        list(Appointment.objects.order_by("starts_at", "doctor__full_name").values_list(
            "starts_at", "doctor__full_name", "status")),
    ]


@pytest.mark.django_db
def test_the_same_seed_and_clock_give_the_same_clinic():
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        with transaction.atomic():
            load_demo("--seed", "3")
            first = fingerprint()
            transaction.set_rollback(True)
        load_demo("--seed", "3")
    assert fingerprint() == first
