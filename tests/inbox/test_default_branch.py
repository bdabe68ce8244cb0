"""A website inquiry that names no branch goes to the clinic's default branch, never to "the first"."""

import pytest

from clinicflow.clinic.models import Branch, ClinicSettings
from clinicflow.inbox.models import Inquiry
from clinicflow.inbox.services import InquiryDraft, inquiry_receive

from .conftest import WEDNESDAY_10

URL = "/api/v1/public/inquiries"


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(WEDNESDAY_10, tick=False)


def post(client, **fields):
    payload = {"name": "Ivan Petrov", "phone": "8 (916) 123-45-67", "consent": True, **fields}
    return client.post(URL, payload, content_type="application/json")


def name_default(branch: Branch) -> None:
    settings = ClinicSettings.load()
    settings.default_branch = branch
    settings.save()


def test_it_goes_to_the_default_branch(visitor, moscow, novosibirsk):
    name_default(novosibirsk)
    assert post(visitor).status_code == 201
    assert Inquiry.objects.get().branch == novosibirsk


def test_a_new_branch_first_in_the_alphabet_does_not_take_the_web_leads(visitor, moscow):
    name_default(moscow)
    Branch.objects.create(name="Kazan", time_zone="Europe/Moscow")
    post(visitor)
    assert Inquiry.objects.get().branch == moscow


def test_a_branch_named_by_the_sender_wins_over_the_default(visitor, moscow, novosibirsk):
    name_default(moscow)
    post(visitor, branch_id=novosibirsk.pk)
    assert Inquiry.objects.get().branch == novosibirsk


def test_with_one_branch_and_no_default_it_goes_to_that_branch(visitor, moscow):
    assert post(visitor).status_code == 201
    assert Inquiry.objects.get().branch == moscow


def test_with_several_branches_and_no_default_it_is_refused_in_words(visitor, moscow, novosibirsk):
    response = post(visitor)
    assert response.status_code == 422
    assert "names no default" in response.content.decode()
    assert not Inquiry.objects.exists()


def test_with_no_branch_at_all_it_is_refused(visitor, db):
    response = post(visitor)
    assert response.status_code == 422
    assert "no branch yet" in response.content.decode()


def test_staff_filing_without_a_branch_keep_their_own_first_branch(receptionist, moscow, novosibirsk):
    name_default(novosibirsk)
    draft = InquiryDraft(channel="phone", phone="+79161234567", consent=True)
    inquiry, _created = inquiry_receive(draft=draft, created_by=receptionist)
    assert inquiry.branch == moscow


def test_the_default_branch_is_set_in_clinic_settings(client, django_user_model, moscow):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    page = client.get("/admin/clinic/clinicsettings/add/").content.decode()
    assert 'name="default_branch"' in page
