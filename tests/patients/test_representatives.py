"""Representatives: a phone is not always one patient. A mother owns the number; her children have none."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from clinicflow.patients.models import Channel, PatientIdentity, Representative
from clinicflow.patients.services import (
    patient_add_dependant,
    patient_reach,
    patient_resolve,
    representative_link,
    representative_unlink,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(moscow):
    patient, _created = patient_resolve(branch=moscow, phone="+7 903 111-22-33", full_name="Anna Ivanova")
    return patient


def test_a_dependant_is_a_patient_without_addresses_at_the_representatives_branch(anna, receptionist, novosibirsk):
    misha = patient_add_dependant(representative=anna, full_name="  Misha Ivanov ", birth_date=date(2018, 5, 1),
                                  relation="parent", by=receptionist)
    assert (misha.full_name, misha.birth_date, misha.branch) == ("Misha Ivanov", date(2018, 5, 1), anna.branch)
    assert not misha.identities.exists()
    link = misha.represented_by.get()
    assert (link.representative, link.relation, link.created_by) == (anna, "parent", receptionist)


@pytest.mark.parametrize("fields, field", [
    ({"full_name": "  ", "relation": "parent"}, "full_name"),
    ({"full_name": "Misha", "relation": "aunt"}, "relation"),
    ({"full_name": "Misha", "relation": "parent", "birth_date": date(2999, 1, 1)}, "birth_date"),
])
def test_a_dependant_is_refused_with_the_field_named(anna, receptionist, fields, field):
    with pytest.raises(ValidationError) as refused:
        patient_add_dependant(representative=anna, by=receptionist, **fields)
    assert field in refused.value.message_dict
    assert not Representative.objects.exists()


def test_an_existing_patient_is_linked_once(anna, ivan, receptionist):
    representative_link(representative=anna, patient=ivan, relation="family", by=receptionist)
    with pytest.raises(ValidationError) as refused:
        representative_link(representative=anna, patient=ivan, relation="guardian", by=receptionist)
    assert refused.value.message_dict["patient"] == ["Anna Ivanova already acts for Ivan Petrov."]
    assert Representative.objects.get().relation == "family"


def test_nobody_represents_themselves(anna, receptionist):
    with pytest.raises(ValidationError):
        representative_link(representative=anna, patient=anna, relation="other", by=receptionist)
    with pytest.raises(IntegrityError):
        Representative.objects.create(representative=anna, patient=anna)


def test_unlinking_keeps_both_cards(anna, ivan, receptionist):
    representative_link(representative=anna, patient=ivan, relation="family", by=receptionist)
    assert representative_unlink(representative=anna, patient=ivan, by=receptionist) is True
    assert representative_unlink(representative=anna, patient=ivan, by=receptionist) is False
    assert anna.identities.exists() and ivan.identities.exists()


def test_a_child_is_reached_through_the_guardians_addresses(anna, receptionist):
    misha = patient_add_dependant(representative=anna, full_name="Misha", relation="parent", by=receptionist)
    assert [(i.channel, i.address) for i in patient_reach(misha)] == [(Channel.PHONE, "+79031112233")]


def test_a_person_with_addresses_of_their_own_is_reached_there(anna, ivan, receptionist):
    representative_link(representative=anna, patient=ivan, relation="family", by=receptionist)
    assert patient_reach(ivan) == list(ivan.identities.all())


def test_several_representatives_are_reached_the_earliest_linked_first(anna, ivan, receptionist):
    misha = patient_add_dependant(representative=anna, full_name="Misha", relation="parent", by=receptionist)
    representative_link(representative=ivan, patient=misha, relation="family", by=receptionist)
    PatientIdentity.objects.create(patient=anna, channel=Channel.TELEGRAM, address="5551")
    reach = patient_reach(misha)
    assert [i.patient for i in reach] == [anna, anna, ivan]
