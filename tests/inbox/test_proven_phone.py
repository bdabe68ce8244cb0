"""The verified-phone join: a messenger account that proves a phone joins the card that owns it, or is noted."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.patients.merging import patient_unmerge
from clinicflow.patients.models import Channel, Patient, PatientIdentity, PatientMerge
from clinicflow.scheduling.services import appointment_book

pytestmark = pytest.mark.django_db
CHAT = "424242"


def telegram(text="", *, phone="", verified=True, kind=Message.Kind.TEXT, external_id=""):
    """A message of the Telegram account CHAT; with `phone`, the contact it shared."""
    return inquiry_receive(draft=InquiryDraft(channel=Channel.TELEGRAM, sender=CHAT, phone=phone, text=text,
                                              kind=kind, number_verified=verified, consent=not verified,
                                              external_id=external_id))


def stub() -> Patient:
    return PatientIdentity.objects.get(channel=Channel.TELEGRAM, address=CHAT).patient


def notes(inquiry) -> list[str]:
    return list(inquiry.messages.filter(direction=Message.Direction.NOTE).values_list("body", flat=True))


def test_a_stub_that_shares_its_own_number_joins_the_card_of_that_number(ivan, moscow, manager):
    first, _received = telegram("Hello, I need a cardiologist", external_id="1")
    account_card = first.patient
    assert account_card != ivan and account_card.phones == []

    inquiry, _received = telegram(phone="+7 916 123-45-67", kind=Message.Kind.CONTACT, external_id="2")

    record = PatientMerge.objects.get()
    assert (record.kept, record.merged, record.by, record.reason) == (ivan, account_card, None,
                                                                      "the account shared this number")
    assert inquiry.patient == ivan and stub() == ivan
    first.refresh_from_db()
    assert first.patient == ivan  # the stub's inquiry, and its case, are Ivan's now
    assert Inquiry.objects.filter(patient=ivan).count() == 1

    patient_unmerge(merge_record=record, by=manager)  # reversible by a manager
    assert stub() == account_card


def test_the_next_message_of_the_account_goes_to_the_kept_card(ivan):
    telegram("Hello", external_id="1")
    telegram(phone="+79161234567", kind=Message.Kind.CONTACT, external_id="2")
    inquiry, _received = telegram("Is 10:00 free?", external_id="3")
    assert inquiry.patient == ivan


def test_a_redelivered_contact_merges_nothing_twice(ivan):
    telegram("Hello", external_id="1")
    telegram(phone="+79161234567", kind=Message.Kind.CONTACT, external_id="2")
    telegram(phone="+79161234567", kind=Message.Kind.CONTACT, external_id="2")
    assert PatientMerge.objects.count() == 1


def test_an_unproven_number_joins_nothing(ivan):
    telegram("Hello", external_id="1")
    inquiry, _received = telegram(phone="+79161234567", verified=False, external_id="2")
    assert not PatientMerge.objects.exists() and inquiry.patient != ivan


def test_a_card_with_a_phone_of_its_own_is_not_merged_but_noted(ivan, moscow):
    telegram("Hello", external_id="1")
    PatientIdentity.objects.create(patient=stub(), channel=Channel.PHONE, address="+79031112233")
    inquiry, _received = telegram(phone="+79161234567", kind=Message.Kind.CONTACT, external_id="2")
    assert not PatientMerge.objects.exists() and inquiry.patient == stub() != ivan
    assert notes(inquiry) == [f"This account also proved the number of card #{ivan.pk}. If they are one person, "
                              f"merge the cards."]
    telegram(phone="+79161234567", kind=Message.Kind.CONTACT, external_id="3")
    assert len(notes(inquiry)) == 1  # once per inquiry


def test_a_card_with_a_visit_is_not_merged(ivan, moscow, doctor):
    first, _received = telegram("Hello", external_id="1")
    appointment_book(patient=first.patient, doctor=doctor, branch=moscow, case=first.case,
                     starts_at=(timezone.now() + timedelta(days=2)).replace(microsecond=0))
    inquiry, _received = telegram(phone="+79161234567", kind=Message.Kind.CONTACT, external_id="2")
    assert not PatientMerge.objects.exists() and notes(inquiry)


def test_a_web_form_naming_a_known_number_merges_nothing(ivan, moscow):
    telegram("Hello", external_id="1")
    inquiry_receive(draft=InquiryDraft(channel=Channel.WEB, phone="+79161234567", consent=True))
    assert not PatientMerge.objects.exists()
