"""Phone numbers as people type them: in forms, in messengers, with a note next to the number.

The rule is never to guess. A number is read where it is really written (phonenumbers' matcher), never by
gluing every digit of the text together: "8 916 123-45-67 (after 18:00)" glued was a valid number of
another country. Two different numbers, digits that would have to be glued onto the number, or an
extension are refused with a message that says which.
"""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# What may stand between the digit groups of one number ("8 916 123-45-67", "8.916.123.45.67"). A digit group
# joined to a number by these alone might be part of it ("35 89161234567": an age, or the start of a number?).
GROUP_JOINERS = " \t\u00a0-\u2010\u2011\u2012\u2013."
# A text with nothing but a number in it: digits, the joiners, brackets and a leading plus.
ONLY_A_NUMBER = re.compile(r"\+?[\d\s\u00a0().\-\u2010-\u2013]+")


def normalize_phone(raw: str, region: str | None = None) -> str:
    """Return the E.164 form of the one phone number written in `raw`, or raise ValidationError.

    "8 (916) 123-45-67", "+7 916 123 45 67", "79161234567" and "8 916 1234567 (after 18:00)" are all
    +79161234567 with region RU. Refused, each with its own code: no number ("invalid"), two different numbers
    ("several"), digits standing next to the number that could belong to it ("glued"), an extension
    ("extension": a switchboard is not one person, and no channel can dial the extension).
    """
    region = region or settings.CLINICFLOW_PHONE_REGION
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    matches = list(phonenumbers.PhoneNumberMatcher(text, region))
    found = list(dict.fromkeys(_e164(match.number) for match in matches))
    if len(found) > 1:
        raise ValidationError(_("“%(phone)s” holds several numbers (%(numbers)s): give one."),
                              params={"phone": raw, "numbers": ", ".join(format_phone(n) for n in found)},
                              code="several")
    if matches:
        for match in matches:
            _refuse_extension(match, raw)
            _refuse_glued_digits(text, match.start, match.end, raw)
        return found[0]
    return _whole_text_as_number(text, region, raw)


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _refuse_extension(match: phonenumbers.PhoneNumberMatch, raw: str) -> None:
    if match.number.extension:
        raise ValidationError(
            _("“%(phone)s” has an extension (%(extension)s): give a number that reaches the person directly."),
            params={"phone": raw, "extension": match.number.extension}, code="extension")


def _refuse_glued_digits(text: str, start: int, end: int, raw: str) -> None:
    """Digits joined to the number by spaces or dashes alone (or touching it): part of it, or a note? A person
    must say; a note in words ("мне 35 лет", "after 19") or in brackets ("(18:00)") is left alone."""
    near = [re.search(r"\d+$", text[:start].rstrip(GROUP_JOINERS)), re.match(r"\d+", text[end:].lstrip(GROUP_JOINERS))]
    near = [found.group() for found in near if found]
    if near:
        raise _glued(raw, near)


def _glued(raw: str, digits: list[str]) -> ValidationError:
    return ValidationError(
        _("In “%(phone)s” the digits %(digits)s stand next to the number: are they part of it? "
          "Write the number alone, or the note in words."),
        params={"phone": raw, "digits": ", ".join(f"“{group}”" for group in digits)}, code="glued")


def _whole_text_as_number(text: str, region: str, raw: str) -> str:
    """The matcher found nothing: the whole text may still be one number in a spelling it does not accept,
    such as an international number typed without its plus ("380441234567")."""
    invalid = ValidationError(_("“%(phone)s” is not a valid phone number."), params={"phone": raw}, code="invalid")
    if not ONLY_A_NUMBER.fullmatch(text):
        raise invalid
    digits = "".join(ch for ch in text if ch.isdigit())
    candidates = [text]
    if not text.startswith("+") and len(digits) > 10:
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            _refuse_local_number_inside(digits, region, raw)
            return _e164(number)
    raise invalid


def _refuse_local_number_inside(digits: str, region: str, raw: str) -> None:
    """"4479161234567" reads as a British number, but ends with a whole Russian one: an age typed before it?"""
    for cut in range(1, len(digits) - 9):
        try:
            number = phonenumbers.parse(digits[cut:], region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) and number.country_code == phonenumbers.country_code_for_region(
                region):
            raise _glued(raw, [digits[:cut]])


def format_phone(e164: str) -> str:
    """A readable international form for the screen."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def e164_or_raw(raw: str) -> str:
    """The E.164 form of a valid number, else the text as given: for a channel that passes the number on and lets
    `inquiry_receive` refuse it by field name, so one bad event never costs the rest of a delivery."""
    try:
        return normalize_phone(raw)
    except ValidationError:
        return raw


def is_mobile(e164: str) -> bool:
    """Can this number receive an SMS? Landlines cannot; numbers a plan does not tell apart (the USA's "fixed line
    or mobile") count as mobile."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
