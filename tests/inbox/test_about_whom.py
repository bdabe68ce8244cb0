"""Who wrote, and whom the inquiry is about: a mother writes about her children from her own number."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicflow.compliance.models import AccessLogEntry
from clinicflow.funnel.models import Stage
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import InquiryDraft, Received, inquiry_receive, inquiry_set_patient
from clinicflow.patients.models import Channel
from clinicflow.patients.services import patient_add_dependant, patient_resolve

from .conftest import WEDNESDAY_10

pytestmark = pytest.mark.time_machine(WEDNESDAY_10 + timedelta(hours=1), tick=False)
ANNA = "+79031112233"


@pytest.fixture
def anna(moscow, receptionist):
    """A mother whose two children have no phones of their own."""
    anna, _created = patient_resolve(branch=moscow, phone=ANNA, full_name="Anna Ivanova")
    patient_add_dependant(representative=anna, full_name="Misha Ivanov", relation="parent", by=receptionist)
    patient_add_dependant(representative=anna, full_name="Masha Ivanova", relation="parent", by=receptionist)
    return anna


def children(anna):
    return [link.patient for link in anna.represents.order_by("id")]


def telegram(moscow, text, external_id, sender="5001", phone=ANNA):
    inquiry, received = inquiry_receive(draft=InquiryDraft(
        channel=Channel.TELEGRAM, sender=sender, phone=phone, text=text, number_verified=True, branch_id=moscow.pk,
        external_id=external_id))
    return inquiry, received


def test_a_sender_who_acts_for_others_is_asked_whom_the_inquiry_is_about(anna, moscow):
    inquiry, _received = telegram(moscow, "Can we come on Friday?", "m1")
    assert (inquiry.patient, inquiry.contact, inquiry.about_confirmed) == (anna, None, False)


def test_a_sender_who_acts_for_nobody_is_not_asked(ivan, receive):
    inquiry = receive("+7 916 123-45-67")
    assert (inquiry.patient, inquiry.contact, inquiry.about_confirmed) == (ivan, None, True)


def test_choosing_a_child_moves_the_inquiry_to_the_childs_case_and_closes_the_mothers_fresh_one(
        anna, moscow, receptionist):
    inquiry, _received = telegram(moscow, "Misha has a rash", "m1")
    mothers_case = inquiry.case
    misha = children(anna)[0]
    inquiry = inquiry_set_patient(inquiry=inquiry, patient=misha, by=receptionist)
    assert (inquiry.patient, inquiry.contact, inquiry.about_confirmed) == (misha, anna, True)
    assert inquiry.case.patient == misha and inquiry.case.branch == moscow and inquiry.case.is_open
    mothers_case.refresh_from_db()
    assert mothers_case.stage == Stage.LOST
    note = inquiry.messages.get(direction=Message.Direction.NOTE)
    assert note.body == f"About patient #{misha.pk}, for whom the sender acts." and note.author == receptionist


def test_the_mothers_case_stays_when_it_holds_more_than_this_inquiry(anna, moscow, receptionist, receive):
    first, _received = telegram(moscow, "About me", "m1")
    first = inquiry_set_patient(inquiry=first, patient=anna, by=receptionist)
    Inquiry.objects.filter(pk=first.pk).update(status=Inquiry.Status.ANSWERED)
    second, _received = telegram(moscow, "And about Misha", "m2")
    assert second.case == first.case
    inquiry_set_patient(inquiry=second, patient=children(anna)[0], by=receptionist)
    first.case.refresh_from_db()
    assert first.case.stage == Stage.NEW


def test_choosing_the_sender_keeps_the_inquiry_theirs(anna, moscow, receptionist):
    inquiry, _received = telegram(moscow, "About me", "m1")
    case = inquiry.case
    inquiry = inquiry_set_patient(inquiry=inquiry, patient=anna, by=receptionist)
    assert (inquiry.patient, inquiry.contact, inquiry.about_confirmed, inquiry.case) == (anna, None, True, case)
    assert inquiry.messages.get(direction=Message.Direction.NOTE).body == "About the sender themselves."


def test_a_patient_the_sender_does_not_act_for_is_refused(anna, ivan, moscow, receptionist):
    inquiry, _received = telegram(moscow, "Hello", "m1")
    with pytest.raises(ValidationError) as refused:
        inquiry_set_patient(inquiry=inquiry, patient=ivan, by=receptionist)
    assert "patient" in refused.value.message_dict
    inquiry.refresh_from_db()
    assert (inquiry.patient, inquiry.about_confirmed) == (anna, False)


def test_a_second_message_from_the_mother_joins_the_inquiry_about_her_child(anna, moscow, receptionist):
    inquiry, _received = telegram(moscow, "Misha has a rash", "m1")
    inquiry_set_patient(inquiry=inquiry, patient=children(anna)[0], by=receptionist)
    joined, received = telegram(moscow, "It is worse today", "m2")
    assert (joined.pk, received) == (inquiry.pk, Received.JOINED)
    assert Inquiry.objects.count() == 1


# --- the queue -------------------------------------------------------------------------------------------


def queue_row(response, inquiry) -> str:
    content = response.content.decode()
    return re.search(rf'<tr data-id="{inquiry.pk}".*?</tr>', content, re.S).group()


def test_the_queue_row_asks_about_whom_with_a_button_per_person(anna, moscow, rita_client):
    inquiry, _received = telegram(moscow, "Can we come on Friday?", "m1")
    row = queue_row(rita_client.get("/queue/"), inquiry)
    assert "about whom?" in row and "acts for Misha Ivanov, Masha Ivanova" in row
    misha, masha = children(anna)
    assert all(f'name="patient" value="{pk}"' in row for pk in (anna.pk, misha.pk, masha.pk))


def test_a_button_of_the_queue_files_the_inquiry_about_that_child(anna, moscow, rita_client, receptionist):
    inquiry, _received = telegram(moscow, "Can we come on Friday?", "m1")
    masha = children(anna)[1]
    response = rita_client.post(f"/inquiries/{inquiry.pk}/about/", {"patient": masha.pk})
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert (inquiry.patient, inquiry.contact) == (masha, anna)
    assert AccessLogEntry.objects.filter(user_id=receptionist.pk, patient_id=masha.pk, action="write").exists()
    row = queue_row(rita_client.get("/queue/"), inquiry)
    assert "Masha Ivanova" in row and "written by Anna Ivanova" in row and "about whom?" not in row


def test_the_about_page_refuses_a_stranger_with_a_message(anna, ivan, moscow, rita_client):
    inquiry, _received = telegram(moscow, "Hello", "m1")
    response = rita_client.post(f"/inquiries/{inquiry.pk}/about/", {"patient": ivan.pk}, follow=True)
    assert "does not act for" in response.content.decode()
    response = rita_client.post(f"/inquiries/{inquiry.pk}/about/", {"patient": "nobody"}, follow=True)
    assert "Choose whom the inquiry is about." in response.content.decode()


def test_the_queue_row_shows_the_newest_message_of_the_conversation(anna, moscow, rita_client):
    inquiry, _received = telegram(moscow, "First words", "m1")
    assert "First words" in queue_row(rita_client.get("/queue/"), inquiry)
    telegram(moscow, "Second thoughts", "m2")
    row = queue_row(rita_client.get("/queue/"), inquiry)
    assert "Second thoughts" in row and "First words" not in row


def test_a_sticker_is_shown_by_its_kind(ivan, moscow, rita_client):
    inquiry, _received = inquiry_receive(draft=InquiryDraft(
        channel=Channel.TELEGRAM, sender="77", phone="+79161234567", kind=Message.Kind.STICKER,
        number_verified=True, branch_id=moscow.pk, external_id="s1"))
    assert "[Sticker]" in queue_row(rita_client.get("/queue/"), inquiry)


def test_a_second_message_is_seen_by_the_refresh(anna, moscow, rita_client, time_machine):
    telegram(moscow, "First words", "m1")
    version = re.search(r'data-version="([^"]+)"', rita_client.get("/queue/").content.decode()).group(1)
    time_machine.move_to(WEDNESDAY_10 + timedelta(hours=1, seconds=2), tick=False)
    telegram(moscow, "Second thoughts", "m2")
    response = rita_client.get("/queue/", headers={"HX-Request": "true", "X-Queue-Version": version})
    assert response.status_code == 200 and "Second thoughts" in response.content.decode()


def queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/queue/").status_code == 200
    return len(queries)


def test_the_queue_costs_the_same_queries_however_many_families_wait(moscow, rita_client, receptionist):
    def family(n):
        mother, _created = patient_resolve(branch=moscow, phone=f"+7903111220{n}", full_name=f"Mother {n}")
        for child in range(3):
            patient_add_dependant(representative=mother, full_name=f"Child {n}.{child}", relation="parent",
                                  by=receptionist)
        telegram(moscow, f"Message {n}", f"f{n}", sender=f"90{n}", phone=mother.phones[0])

    family(1)
    queue_queries(rita_client)
    few = queue_queries(rita_client)
    for n in range(2, 7):
        family(n)
    assert queue_queries(rita_client) == few


# --- a second name typed for a known phone ------------------------------------------------------------------


@pytest.mark.parametrize("typed, shown", [
    ("Maria", True),
    ("ivan  petrov", False),
    (" IVAN PETROV ", False),
    ("", False),
])
def test_a_second_name_typed_for_a_known_phone_is_shown_on_the_row(ivan, receive, rita_client, typed, shown):
    inquiry = receive("8 916 123-45-67", full_name=typed)
    row = queue_row(rita_client.get("/queue/"), inquiry)
    assert ("the form says" in row) is shown


def test_the_inquiry_page_names_both_and_offers_to_add_the_name_as_a_dependant(ivan, receive, rita_client):
    inquiry = receive("8 916 123-45-67", full_name="Maria")
    content = rita_client.get(f"/inquiries/{inquiry.pk}/").content.decode()
    assert "This number belongs to Ivan Petrov; the form says “Maria”." in content
    assert f'action="/inquiries/{inquiry.pk}/dependant/"' in content


def test_adding_the_typed_name_as_a_dependant_files_the_inquiry_about_them(ivan, receive, rita_client):
    inquiry = receive("8 916 123-45-67", full_name="Maria")
    response = rita_client.post(f"/inquiries/{inquiry.pk}/dependant/", {"full_name": "Maria Petrova",
                                                                          "relation": "parent"})
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert (inquiry.patient.full_name, inquiry.contact, inquiry.patient.branch) == ("Maria Petrova", ivan, ivan.branch)
    ivan.refresh_from_db()
    assert ivan.full_name == "Ivan Petrov"  # the card of the number's owner is untouched


def test_a_dependant_without_a_name_is_refused_on_the_inquiry_page(ivan, receive, rita_client):
    inquiry = receive("8 916 123-45-67", full_name="Maria")
    response = rita_client.post(f"/inquiries/{inquiry.pk}/dependant/", {"full_name": " ", "relation": "parent"},
                                follow=True)
    assert "Give the name of the person represented." in response.content.decode()
    assert not ivan.represents.exists()
