import hmac
import json
import logging

from django.conf import settings
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from .adapters.fhir_r4 import MalformedResource
from .services import mis_hook_receive

log = logging.getLogger("clinicflow.mis")
MAX_BODY_BYTES = 1_000_000


def _authorised(request) -> bool:
    expected = f"Bearer {settings.CLINICFLOW_MIS_WEBHOOK_TOKEN}".encode()
    given = request.headers.get("Authorization", "").encode()
    return hmac.compare_digest(given, expected)


@csrf_exempt  # a machine's POST, authenticated by its bearer token, not a browser's session
def fhir_hook(request):
    """The MIS tells us an appointment changed: an Appointment, or a subscription notification Bundle."""
    if not settings.CLINICFLOW_MIS_WEBHOOK_TOKEN:
        raise Http404  # no token configured: the hook does not exist, whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not _authorised(request):
        return JsonResponse({"error": _("Wrong or missing bearer token.")}, status=401,
                            headers={"WWW-Authenticate": "Bearer"})
    if len(request.body) > MAX_BODY_BYTES:
        return JsonResponse({"error": _("The notification is too large.")}, status=413)
    try:
        body = json.loads(request.body)
        results = mis_hook_receive(body=body)
    except (ValueError, UnicodeDecodeError) as exc:
        field = exc.field if isinstance(exc, MalformedResource) else "body"
        message = exc.message if isinstance(exc, MalformedResource) else _("not JSON")
        # The field and the rule, never the value: it may be a clinical text we must not keep.
        log.warning("MIS webhook refused: %s: %s", field, message)
        return JsonResponse({"error": _("Malformed notification."), "field": field, "detail": message}, status=400)
    return JsonResponse({"results": results})
