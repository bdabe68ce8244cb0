"""Two-factor log-in pages: set up or remove an authenticator app, and enter a code after the password.

These pages are open to a session that has not passed its second factor yet, so they show nothing of
the clinic's data (not even the menu's count of waiting inquiries).
"""

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .decorators import two_factor_redirect
from .forms import CodeForm
from .services import (
    CodeCheck,
    TwoFactorStep,
    staff_language_set,
    totp_code_check,
    totp_device_confirm,
    totp_device_confirmed,
    totp_device_remove,
    totp_device_unconfirmed,
    two_factor_required,
    two_factor_step,
)

CODE_ERRORS = {
    CodeCheck.WRONG: gettext_lazy("That code is not right, or it was used already. Enter the code your app shows now."),
    CodeCheck.TOO_MANY_ATTEMPTS: gettext_lazy("Too many wrong codes. Wait a few seconds, then try again."),
}
LANGUAGE_COOKIE_DAYS = 365
# Overrides the menu's unread counter (a context processor) on these pages.
NOTHING_OF_THE_CLINIC = {"nav_unread": 0}


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return url if safe else ""


def _session_verified(request: HttpRequest, device: TOTPDevice) -> None:
    # A new session key for the raised privilege, as django.contrib.auth does at log-in.
    request.session.cycle_key()
    otp_login(request, device)


def _qr_code(device: TOTPDevice) -> SafeString:
    """The otpauth:// address as an inline SVG: the secret never leaves the page for an image service."""
    svg = segno.make(device.config_url, error="m", micro=False).svg_inline(
        scale=5, border=2, svgclass="img-fluid", title=_("QR code for your authenticator app"))
    return mark_safe(svg)  # segno escapes the title; the rest is paths it generated


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _setup_page(request: HttpRequest, *, form: CodeForm, next_url: str, status: int = 200) -> HttpResponse:
    user = request.user
    context = {"form": form, "next": next_url, "required": two_factor_required(user), **NOTHING_OF_THE_CLINIC}
    device = totp_device_confirmed(user)
    if device is None:
        device = totp_device_unconfirmed(user=user)
        secret = b32encode(device.bin_key).decode()
        context.update(setting_up=device, secret=_grouped(secret), qr_code=_qr_code(device))
    else:
        context["device"] = device
    return render(request, "accounts/two_factor.html", context, status=status)


@never_cache
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app (QR code or key, then a code to confirm it), or see that it is on."""
    next_url = _next_url(request)
    if two_factor_step(request) is TwoFactorStep.VERIFY:
        return two_factor_redirect(request, TwoFactorStep.VERIFY, next_url or request.path)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and totp_device_confirmed(request.user) is None and form.is_valid():
        device = totp_device_unconfirmed(user=request.user)
        result = totp_device_confirm(device=device, code=form.cleaned_data["code"])
        if result is CodeCheck.ACCEPTED:
            _session_verified(request, device)
            messages.success(request, _("Two-factor log-in is on. After your password you will be asked for a code."))
            return redirect(next_url or "accounts:two_factor")
        form.add_error("code", CODE_ERRORS[result])
    return _setup_page(request, form=form, next_url=next_url)


@never_cache
@login_required
@require_POST
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    """Switch two-factor log-in off; asks for a current code, so an unattended open session cannot."""
    step = two_factor_step(request)
    device = totp_device_confirmed(request.user)
    if step is TwoFactorStep.VERIFY or device is None:
        return redirect("accounts:two_factor")
    form = CodeForm(request.POST)
    if form.is_valid():
        result = totp_device_remove(device=device, code=form.cleaned_data["code"])
        if result is CodeCheck.ACCEPTED:
            messages.success(request, _("Two-factor log-in is off."))
            return redirect("accounts:two_factor")
        form.add_error("code", CODE_ERRORS[result])
    return _setup_page(request, form=form, next_url="")


@never_cache
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The code page after the password: nothing else opens until a valid code is entered."""
    next_url = _next_url(request)
    step = two_factor_step(request)
    if step is TwoFactorStep.ENROLL:
        return two_factor_redirect(request, step, next_url)
    if step is None:
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    device = totp_device_confirmed(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = totp_code_check(device=device, code=form.cleaned_data["code"])
        if result is CodeCheck.ACCEPTED:
            _session_verified(request, device)
            return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
        form.add_error("code", CODE_ERRORS[result])
    context = {"form": form, "next": next_url, **NOTHING_OF_THE_CLINIC}
    return render(request, "accounts/two_factor_verify.html", context)


@login_required
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language of the person logged in ("" follows the clinic's default)."""
    choice = request.POST.get("language", "")
    try:
        staff_language_set(user=request.user, language=choice)
    except ValueError:
        return HttpResponse(_("Unknown language."), status=400)
    next_url = _next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL)
    response = redirect(next_url)
    # The log-in page of this browser speaks it too, until someone chooses otherwise.
    if choice:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, choice, max_age=LANGUAGE_COOKIE_DAYS * 24 * 3600,
                            secure=settings.LANGUAGE_COOKIE_SECURE, httponly=True, samesite="Lax")
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


def login_locked_out(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out user name + address: the log-in page, saying why (429).

    Used for the staff log-in and the admin's alike, so that both explain the lock the same way.
    """
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return render(request, "registration/login.html", {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "locked_out": True,
        "cooloff_minutes": settings.CLINICFLOW_LOGIN_COOLOFF_MINUTES,
    }, status=429)
