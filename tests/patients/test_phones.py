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


@pytest.mark.parametrize("written", [
    "8 916 123-45-67 (звонить после 18:00)",
    "+7 916 123 45 67, мне 35 лет",
    "916 1234567 after 19",
    "ребёнку 7 лет 89161234567",
    "7 916 123 45 67",
    "Иван 8 916 123 45 67",
    "9161234567 Маша",
    "8 916 123-45-67 (18:00)",
    "+79161234567,35",
    "+7 916 123 45 67 / 8 916 123 45 67",  # one number written twice is still one number
    "тел.: +7 (916) 123-45-67",
])
def test_it_reads_the_number_written_next_to_a_note_without_gluing_the_notes_digits(written):
    assert normalize_phone(written) == "+79161234567"


@pytest.mark.parametrize("written, e164", [
    ("+44 20 7946 0958", "+442079460958"),
    ("+1 650 253 0000", "+16502530000"),
    ("447916123456", "+447916123456"),
    ("8 800 555-35-35", "+78005553535"),
])
def test_it_keeps_numbers_of_other_countries_and_free_lines(written, e164):
    assert normalize_phone(written) == e164


@pytest.mark.parametrize("written", [
    "+7 916 123 45 67 / +7 903 111 22 33",
    "79161234567 89031112233",
    "8 916 123 45 67 или 8 903 111 22 33",
])
def test_it_refuses_two_different_numbers(written):
    with pytest.raises(ValidationError) as refused:
        normalize_phone(written)
    assert refused.value.code == "several"
    assert "+7 916 123-45-67, +7 903 111-22-33" in refused.value.messages[0]


@pytest.mark.parametrize("written, digits", [
    ("35 89161234567", "“35”"),          # an age, or the start of the number? Nobody can tell
    ("89161234567 35лет", "“35”"),
    ("12 9161234567", "“12”"),
    ("4989161234567", "“49”"),           # glued, it is a valid Munich number: never read as one
])
def test_it_refuses_digits_that_would_have_to_be_glued_onto_the_number(written, digits):
    with pytest.raises(ValidationError) as refused:
        normalize_phone(written)
    assert refused.value.code == "glued"
    assert digits in refused.value.messages[0]


@pytest.mark.parametrize("written", ["tel: 8(916)1234567 доб. 123", "+7 916 123 45 67 ext. 5"])
def test_it_refuses_a_number_with_an_extension_because_a_switchboard_is_not_one_person(written):
    with pytest.raises(ValidationError) as refused:
        normalize_phone(written)
    assert refused.value.code == "extension"


@pytest.mark.parametrize("written", [
    "1234567",             # seven digits: a local number without its city code
    "8916abc1234567",      # letters inside the number
    "3589161234567",       # an age glued before a number, making nobody's number
    "19161234567",
    "8 916 123-45-67 18:00",
    "звоните вечером",
])
def test_it_refuses_what_holds_no_whole_number(written):
    with pytest.raises(ValidationError) as refused:
        normalize_phone(written)
    assert refused.value.code == "invalid"
    assert refused.value.messages == [f"“{written}” is not a valid phone number."]


def test_format_phone_shows_a_readable_international_form():
    assert format_phone("+79161234567") == "+7 916 123-45-67"


def test_format_phone_leaves_what_it_cannot_read():
    assert format_phone("not a phone") == "not a phone"


def test_a_russian_mobile_number_can_take_an_sms_and_a_moscow_landline_cannot():
    assert is_mobile("+79161234567")
    assert not is_mobile("+74951234567")
    assert not is_mobile("not a number")
