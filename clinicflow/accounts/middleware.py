"""The interface language of each request: the staff member's choice, else the clinic's default.

Replaces Django's LocaleMiddleware (which knows only the browser) and sits below authentication,
because the person's own choice must win over whatever their browser asks for: a receptionist on a
shared front-desk computer set up in English still gets the Russian she chose.
"""

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

from clinicflow.clinic.cache import clinic_settings_cached

from .models import StaffMember

API_PREFIX = "/api/"


def clinic_default_language() -> str:
    """The clinic's default language (Settings → Clinic settings), without creating the settings row."""
    return clinic_settings_cached().default_language


def staff_language(user) -> str:
    """The language this member of staff chose, or "" for none (the clinic's default applies)."""
    return StaffMember.objects.filter(user_id=user.pk).values_list("language", flat=True).first() or ""


def browser_language(request) -> str:
    """What this browser asks for: the language cookie (set when its user last chose), else Accept-Language."""
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if cookie in {code for code, _name in settings.LANGUAGES}:
        return cookie
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return ""


def request_language(request) -> str:
    """Staff: their choice, else the clinic's default.

    Anybody else (the log-in page): the browser's language, else the clinic's default. The API without a
    session answers in the language its client asks for, else in English: integrations parse its texts,
    and a clinic's setting must not change them under their feet.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return staff_language(user) or clinic_default_language()
    if request.path.startswith(API_PREFIX):
        return browser_language(request) or settings.LANGUAGE_CODE
    return browser_language(request) or clinic_default_language()


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        # Anonymous pages differ by the browser's header and cookie; staff pages by the session cookie.
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response
