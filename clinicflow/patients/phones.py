import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_phone(raw: str, region: str | None = None) -> str:
    """Return the E.164 form of a phone written any common way, or raise ValidationError.

    "8 (916) 123-45-67", "+7 916 123 45 67" and "79161234567" are all +79161234567 with region RU.
    """
    region = region or settings.CLINICFLOW_PHONE_REGION
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    digits = "".join(ch for ch in text if ch.isdigit())
    candidates = [text]
    if not text.startswith("+") and len(digits) > 10:
        # "79161234567": a full international number typed without the plus sign.
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValidationError(_("“%(phone)s” is not a valid phone number."), params={"phone": raw}, code="invalid")


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
