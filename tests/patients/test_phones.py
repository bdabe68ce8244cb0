"""normalize_phone: every common spelling of a number is one E.164 string; anything else is refused."""

import pytest
from django.core.exceptions import ValidationError

from clinicflow.patients.phones import format_phone, is_mobile, normalize_phone


@pytest.mark.parametrize("spelling", [
    "8 (916) 123-45-67",
    "+7 916 123 45 67",
    "79161234567",
    "89161234567",
    "+7(916)1234567",
    "  +7 916 123-45-67  ",
    "9161234567",
    "8-916-123-45-67",
])
def test_it_reads_every_russian_spelling_as_one_number(spelling):
    assert normalize_phone(spelling) == "+79161234567"


def test_it_reads_a_landline():
    assert normalize_phone("8 (495) 123-45-67") == "+74951234567"


def test_it_keeps_a_foreign_number_written_with_its_country_code():
    assert normalize_phone("+49 30 901820") == "+4930901820"


def test_it_reads_a_foreign_number_typed_without_the_plus():
    assert normalize_phone("380441234567") == "+380441234567"


def test_it_reads_ten_digits_as_a_local_number():
    assert normalize_phone("4932123456") == "+74932123456"


def test_it_reads_local_numbers_in_the_given_region():
    assert normalize_phone("030 901820", region="DE") == "+4930901820"


def test_it_follows_the_configured_region(settings):
    settings.CLINICFLOW_PHONE_REGION = "DE"
    assert normalize_phone("030 901820") == "+4930901820"


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_it_asks_for_a_phone_when_there_is_none(empty):
    with pytest.raises(ValidationError) as refused:
        normalize_phone(empty)
    assert refused.value.code == "required"
    assert refused.value.messages == ["Enter a phone number."]


@pytest.mark.parametrize("garbage", [
    "abc",
    "call me maybe",
    "12345",                 # too short
    "8 916 123",             # cut off
    "8 916 123 45 67 89 01",  # too long
    "+7 000 000 00 00",      # no such range
    "+",
    "---",
])
def test_it_refuses_what_is_not_a_phone_number(garbage):
    with pytest.raises(ValidationError) as refused:
        normalize_phone(garbage)
    assert refused.value.code == "invalid"
    assert refused.value.messages == [f"“{garbage}” is not a valid phone number."]


def test_format_phone_shows_a_readable_international_form():
    assert format_phone("+79161234567") == "+7 916 123-45-67"


def test_format_phone_leaves_what_it_cannot_read():
    assert format_phone("not a phone") == "not a phone"


def test_a_russian_mobile_number_can_take_an_sms_and_a_moscow_landline_cannot():
    assert is_mobile("+79161234567")
    assert not is_mobile("+74951234567")
    assert not is_mobile("not a number")
