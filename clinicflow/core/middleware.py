"""Request-wide security rules that hold for every page, whatever view answers.

Core sits below the apps: nothing here imports an app (only Django and the core's own helpers).
"""

import re
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _

# The live queue's background refresh sends this header: a screen left open is not a person at work.
POLL_HEADER = "HTTP_X_CLINICFLOW_POLL"
LAST_SEEN_KEY = "clinicflow_last_seen"
# Write the session's clock at most this often: one session save per request would be a write per poll.
LAST_SEEN_GRANULARITY_SECONDS = 60

# NUL cannot be stored by PostgreSQL; a lone UTF-16 surrogate cannot be encoded to UTF-8 at all.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class NoStoreMiddleware:
    """Pages and API answers carry patient data: no browser or proxy may keep a copy.

    Static assets never reach this middleware (WhiteNoise answers them above it) and stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        return response


class IdleTimeoutMiddleware:
    """Log a staff session out after CLINICFLOW_IDLE_MINUTES without a request made by a person."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        idle_seconds = settings.CLINICFLOW_IDLE_MINUTES * 60
        if idle_seconds and request.user.is_authenticated and not request.path.startswith("/api/"):
            if self.idle_too_long(request, idle_seconds):
                return self.log_out(request)
        return self.get_response(request)

    @staticmethod
    def idle_too_long(request, idle_seconds: int) -> bool:
        now = time.time()
        last_seen = request.session.get(LAST_SEEN_KEY)
        if last_seen is not None and now - last_seen > idle_seconds:
            return True
        polled = request.META.get(POLL_HEADER) == "1"
        if last_seen is None or (not polled and now - last_seen >= LAST_SEEN_GRANULARITY_SECONDS):
            request.session[LAST_SEEN_KEY] = now
        return False

    @staticmethod
    def log_out(request) -> HttpResponse:
        logout(request)
        messages.info(request, _("You were logged out after %(minutes)d minutes without activity.")
                      % {"minutes": settings.CLINICFLOW_IDLE_MINUTES})
        if request.headers.get("HX-Request") == "true":
            # An htmx fragment request (the queue's refresh): send the whole tab to the log-in page
            # rather than swapping the log-in form into the middle of the queue.
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            page = current.path + (f"?{current.query}" if current.query else "") or request.get_full_path()
            response = HttpResponse(status=204)
            response["HX-Redirect"] = redirect_to_login(page)["Location"]
            return response
        return redirect_to_login(request.get_full_path())


class HostileInputMiddleware:
    """Refuse a page request whose form or query values cannot be stored, before any view runs.

    A NUL byte made PostgreSQL fail with a 500 in whichever view saved it; refusing here, once, means no
    view can half-save such a request. The JSON API checks its own bodies and answers in its own format.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            field = unstorable_field(request)
            if field is not None:
                return render(request, "clinicflow/unstorable_input.html",
                              {"field": UNSTORABLE.sub("\N{REPLACEMENT CHARACTER}", field)}, status=422)
        return self.get_response(request)


def unstorable_field(request) -> str | None:
    """The name of the first GET or POST field whose name or value holds a NUL or a lone surrogate."""
    for data in (request.GET, request.POST):
        for name, values in data.lists():
            if UNSTORABLE.search(name) or any(UNSTORABLE.search(value) for value in values):
                return name
    return None


class WidgetCorsMiddleware:
    """Lets the clinic's own websites (CLINICFLOW_WIDGET_ORIGINS) call the public API from the embedded widget.

    Only /api/v1/public/ answers other origins, and only those listed: a browser on any other site gets no
    CORS headers, so it cannot read the answer (and a preflight is refused, so it cannot send JSON at all).
    No credentials are ever allowed: the widget needs no cookies.
    """

    PREFIX = "/api/v1/public/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        origin = request.headers.get("Origin", "")
        if not request.path.startswith(self.PREFIX) or not origin:
            return self.get_response(request)
        allowed = origin.rstrip("/") in settings.CLINICFLOW_WIDGET_ORIGINS
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204 if allowed else 403)
            if allowed:
                response["Access-Control-Allow-Methods"] = "GET, POST"
                response["Access-Control-Allow-Headers"] = "Content-Type"
                response["Access-Control-Max-Age"] = "600"
        else:
            response = self.get_response(request)
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
        patch_vary_headers(response, ["Origin"])
        return response
