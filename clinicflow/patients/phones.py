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
