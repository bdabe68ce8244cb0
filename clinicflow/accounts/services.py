"""Two-factor log-in: the rule of who still owes a code, and the workflows of an authenticator app (TOTP).

django-otp does the cryptography, remembers the last time step each device accepted (a code works once)
and slows down guessing (each wrong code doubles the wait before the next one is even checked).
"""

import enum

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import user_roles


class TwoFactorStep(enum.StrEnum):
    """What a logged-in session must do before it reaches anything else."""

    VERIFY = "verify"  # enter a code from the confirmed authenticator app
    ENROLL = "enroll"  # the clinic requires a second factor and this person has none yet


class CodeCheck(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"  # also a code already used: django-otp accepts each time step once
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # throttled: not even checked, and not counted


def two_factor_required_roles() -> set[str]:
    return set(settings.CLINICFLOW_TWO_FACTOR_ROLES)


def two_factor_required(user) -> bool:
    """The clinic requires a second factor of this user (superusers whenever any role requires it)."""
    roles = two_factor_required_roles()
    return bool(roles) and (user.is_superuser or bool(user_roles(user) & roles))


def two_factor_step(request: HttpRequest) -> TwoFactorStep | None:
    """The one rule that pages, the session API and the admin apply: None lets the session through.

    `is_verified()` comes from django-otp's OTPMiddleware; without it a session counts as not verified.
    """
    user = request.user
    if not user.is_authenticated:
        return None
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return None
    if user_has_device(user, confirmed=True):
        return TwoFactorStep.VERIFY
    if two_factor_required(user):
        return TwoFactorStep.ENROLL
    return None


def totp_device_confirmed(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def totp_device_unconfirmed(*, user) -> TOTPDevice:
    """The key being set up; kept between visits so that reloading the page does not change the QR code."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)


def totp_code_check(*, device: TOTPDevice, code: str) -> CodeCheck:
    """Check a code against one device, counting a wrong code towards the throttle."""
    with transaction.atomic():
        # Locked: two requests racing with the same code cannot both pass the replay check.
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _reason = device.verify_is_allowed()
        if not allowed:
            return CodeCheck.TOO_MANY_ATTEMPTS
        return CodeCheck.ACCEPTED if device.verify_token(code) else CodeCheck.WRONG


def totp_device_confirm(*, device: TOTPDevice, code: str) -> CodeCheck:
    """Turn the device on once the person proves their app makes its codes; one device per person."""
    result = totp_code_check(device=device, code=code)
    if result is CodeCheck.ACCEPTED:
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        device.confirmed = True
        TOTPDevice.objects.filter(user=device.user_id).exclude(pk=device.pk).delete()
    return result


def totp_device_remove(*, device: TOTPDevice, code: str) -> CodeCheck:
    """Switch two-factor log-in off; a current code is asked so that an unattended session cannot."""
    result = totp_code_check(device=device, code=code)
    if result is CodeCheck.ACCEPTED:
        TOTPDevice.objects.filter(user=device.user_id).delete()
    return result


def staff_language_set(*, user, language: str) -> None:
    """Remember the interface language a member of staff chose ("" for the clinic's default).

    ValueError for a language the product has no catalogue for.
    """
    from .models import StaffMember

    if language and language not in dict(settings.LANGUAGES):
        raise ValueError(language)
    StaffMember.objects.update_or_create(user=user, defaults={"language": language})
