"""patient_resolve: one person, one record, whatever spelling of the phone comes in."""

import pytest
from django.core.exceptions import ValidationError

from clinicflow.patients.models import Patient, PatientIdentity
from clinicflow.patients.services import patient_add_identity, patient_resolve


def test_it_creates_a_patient_for_a_new_phone(moscow):
    patient, created = patient_resolve(branch=moscow, phone="8 916 123-45-67", full_name=" Ivan ")
    assert created
    assert (patient.full_name, patient.branch, patient.phones) == ("Ivan", moscow, ["+79161234567"])


def test_it_finds_the_patient_by_another_spelling(ivan, moscow):
    patient, created = patient_resolve(branch=moscow, phone="79161234567")
    assert (patient, created) == (ivan, False)
    assert Patient.objects.count() == 1


def test_a_known_patient_keeps_the_home_branch(ivan, novosibirsk):
    patient, _created = patient_resolve(branch=novosibirsk, phone="+79161234567")
    assert patient.branch == ivan.branch


def test_a_blank_or_different_name_never_overwrites_a_known_one(ivan, moscow):
    patient_resolve(branch=moscow, phone="+79161234567", full_name="")
    patient_resolve(branch=moscow, phone="+79161234567", full_name="Vanya")
    ivan.refresh_from_db()
    assert ivan.full_name == "Ivan Petrov"


def test_it_fills_in_what_was_not_known_when_asked_to(moscow):
    patient_resolve(branch=moscow, phone="+79161234567")
    patient, _created = patient_resolve(branch=moscow, phone="+79161234567", full_name="Ivan",
                                        email="ivan@example.com", fill_blanks=True)
    patient.refresh_from_db()
    assert (patient.full_name, patient.email) == ("Ivan", "ivan@example.com")


def test_by_default_it_changes_nothing_of_a_known_patient(moscow):
    patient_resolve(branch=moscow, phone="+79161234567")
    patient, _created = patient_resolve(branch=moscow, phone="+79161234567", full_name="Ivan",
                                        email="ivan@example.com")
    patient.refresh_from_db()
    assert (patient.full_name, patient.email) == ("", "")


def test_it_refuses_an_invalid_phone_and_saves_nothing(moscow):
    with pytest.raises(ValidationError):
        patient_resolve(branch=moscow, phone="12345")
    assert not Patient.objects.exists()


def test_an_added_phone_is_stored_in_e164(ivan):
    identity = patient_add_identity(patient=ivan, channel="phone", address="8 (495) 123-45-67")
    assert identity.address == "+74951234567"
    assert sorted(ivan.phones) == ["+74951234567", "+79161234567"]


def test_an_address_already_known_stays_with_its_owner(ivan, nina):
    identity = patient_add_identity(patient=nina, channel="phone", address="+7 916 123 45 67")
    assert identity.patient == ivan
    assert PatientIdentity.objects.filter(address="+79161234567").count() == 1
