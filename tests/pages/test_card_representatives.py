"""The card shows whom the patient acts for and who acts for them; the desk adds a child or links a card."""

from html import unescape

import pytest

from clinicflow.compliance.models import AccessLogEntry
from clinicflow.patients.models import Representative
from clinicflow.patients.services import patient_add_dependant, patient_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(moscow):
    patient, _created = patient_resolve(branch=moscow, phone="+7 903 111-22-33", full_name="Anna Ivanova")
    return patient


def test_the_card_shows_both_directions(anna, receptionist, rita_client):
    misha = patient_add_dependant(representative=anna, full_name="Misha Ivanov", relation="parent", by=receptionist)
    content = rita_client.get(f"/patients/{anna.pk}/").content.decode()
    assert "acts for:" in content and "Misha Ivanov" in content
    content = rita_client.get(f"/patients/{misha.pk}/").content.decode()
    assert "represented by:" in content and "Anna Ivanova" in content and "(parent)" in content


def test_the_desk_adds_a_child_and_the_write_is_logged(anna, receptionist, rita_client):
    response = rita_client.post(f"/patients/{anna.pk}/dependants/", {
        "full_name": "Masha Ivanova", "birth_date": "2019-04-02", "relation": "parent"})
    assert response.status_code == 302
    masha = anna.represents.get().patient
    assert (masha.full_name, str(masha.birth_date), masha.branch) == ("Masha Ivanova", "2019-04-02", anna.branch)
    assert AccessLogEntry.objects.filter(user_id=receptionist.pk, patient_id=masha.pk, action="write").exists()
    assert AccessLogEntry.objects.filter(user_id=receptionist.pk, patient_id=anna.pk, action="write").exists()


@pytest.mark.parametrize("body, error", [
    ({"full_name": "", "relation": "parent"}, "Give the name of the person represented."),
    ({"full_name": "Masha", "relation": "parent", "birth_date": "2019-02-31"}, "Give the birth date as a date."),
    ({"full_name": "Masha", "relation": "cousin"}, "Unknown relation “cousin”."),
])
def test_a_bad_dependant_is_refused_with_a_message(anna, rita_client, body, error):
    response = rita_client.post(f"/patients/{anna.pk}/dependants/", body, follow=True)
    assert error in response.content.decode()
    assert not Representative.objects.exists()


@pytest.mark.parametrize("who", ["8 916 123-45-67", "#{pk}", "{pk}"])
def test_the_desk_links_an_existing_patient_by_phone_or_card_number(anna, ivan, rita_client, who):
    rita_client.post(f"/patients/{anna.pk}/representatives/", {
        "who": who.format(pk=ivan.pk), "direction": "acts_for", "relation": "family"})
    link = Representative.objects.get()
    assert (link.representative, link.patient, link.relation) == (anna, ivan, "family")


def test_the_other_direction_makes_them_the_representative(anna, ivan, rita_client):
    rita_client.post(f"/patients/{anna.pk}/representatives/", {
        "who": "+79161234567", "direction": "represented_by", "relation": "guardian"})
    assert (Representative.objects.get().representative, Representative.objects.get().patient) == (ivan, anna)


@pytest.mark.parametrize("who, error", [
    ("", "Give the other patient's card number or phone."),
    ("+7 999 000-00-00", "No patient with the card number or phone"),
    ("8 916 123 45 67 / 8 903 111 22 33", "holds several numbers"),
])
def test_a_link_to_nobody_is_refused_with_a_message(anna, ivan, rita_client, who, error):
    response = rita_client.post(f"/patients/{anna.pk}/representatives/", {
        "who": who, "direction": "acts_for", "relation": "family"}, follow=True)
    assert error in unescape(response.content.decode())
    assert not Representative.objects.exists()


def test_another_branchs_patient_cannot_be_linked(anna, nina, rita_client):
    response = rita_client.post(f"/patients/{anna.pk}/representatives/", {
        "who": str(nina.pk), "direction": "acts_for", "relation": "family"}, follow=True)
    assert "No patient with the card number or phone" in response.content.decode()
    assert not Representative.objects.exists()


def test_removing_a_link_keeps_both_cards(anna, receptionist, rita_client):
    misha = patient_add_dependant(representative=anna, full_name="Misha", relation="parent", by=receptionist)
    link = misha.represented_by.get()
    assert rita_client.post(f"/patients/{misha.pk}/representatives/{link.pk}/remove/").status_code == 302
    assert not Representative.objects.exists()
    assert rita_client.get(f"/patients/{misha.pk}/").status_code == 200
