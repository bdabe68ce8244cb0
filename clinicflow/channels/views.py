import logging

from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from .base import Malformed
from .registry import adapter_for
from .services import delivery_keep_unread, delivery_take

log = logging.getLogger(__name__)


@csrf_exempt  # providers sign their deliveries; they have no session or CSRF token
def hook(request, name: str) -> HttpResponse:
    """A provider's webhook. A channel that is not configured does not exist (404)."""
    adapter = adapter_for(name)
    if adapter is None or not adapter.configured():
        raise Http404
    handshake = adapter.handshake(request)
    if handshake is not None:
        return handshake
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    body = request.body
    if not adapter.verify(request, body):
        return HttpResponseForbidden("bad signature", content_type="text/plain")
    content_type = request.content_type or ""
    try:
        events = adapter.parse(request, body)
    except Malformed as exc:
        return HttpResponseBadRequest(f"malformed: {exc}", content_type="text/plain")
    except Exception as exc:  # a shape we do not know yet must not become a 500 nor lose what the patient wrote
        log.exception("The %s adapter failed on a signed delivery", name)
        delivery_keep_unread(channel=name, body=body, content_type=content_type, error=f"{type(exc).__name__}: {exc}")
        return adapter.answer(request, [])
    delivery_take(channel=name, events=events, body=body, content_type=content_type)
    return adapter.answer(request, events)
