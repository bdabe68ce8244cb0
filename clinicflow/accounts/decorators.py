from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from .models import is_staff_member
from .services import TwoFactorStep, two_factor_step

TWO_FACTOR_PAGES = {TwoFactorStep.VERIFY: "accounts:two_factor_verify", TwoFactorStep.ENROLL: "accounts:two_factor"}


def two_factor_redirect(request: HttpRequest, step: TwoFactorStep, next_url: str | None = None) -> HttpResponse:
    """Send the session to the page of its pending step, coming back to where it was going afterwards."""
    if next_url is None:
        # An htmx fragment is no place to come back to: return to the page the person was looking at.
        next_url = request.htmx.current_url_abs_path if request.htmx else request.get_full_path()
    url = reverse(TWO_FACTOR_PAGES[step])
    if next_url:
        url += "?" + urlencode({"next": next_url})
    # A plain redirect would swap the code page into a fragment of the page: make the browser navigate.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def staff_required(view):
    """Pages for clinic staff: anonymous visitors go to the log-in page, other users get 403.

    A session that still owes its second factor (code or enrollment) goes to that page instead.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff_member(request.user):
            raise PermissionDenied
        step = two_factor_step(request)
        if step is not None:
            return two_factor_redirect(request, step)
        return view(request, *args, **kwargs)

    return wrapper
