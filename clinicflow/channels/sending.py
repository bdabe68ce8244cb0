"""The outbound half of the channels: the "messaging.send" job hands a queued message to its provider.

Messaging decides what, to whom and whether (consent, send guards) and records the outcome; this module
only finds the adapter for the channel and makes the call, outside any transaction.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy

from clinicflow.automation.registry import job_handler
from clinicflow.messaging.services import SEND_JOB, Sending, outbox_failed, outbox_prepare, outbox_sent

from .base import Adapter, SendFailed
from .registry import ADAPTERS, adapter_for


def sender_for(channel: str) -> Adapter | None:
    """The configured adapter that sends on `channel` (for SMS, CLINICFLOW_SMS_PROVIDER picks one of several)."""
    names = [settings.CLINICFLOW_SMS_PROVIDER] if channel == "sms" and settings.CLINICFLOW_SMS_PROVIDER else ADAPTERS
    for name in names:
        adapter = adapter_for(name)
        if adapter and adapter.channel == channel and callable(getattr(adapter, "send", None)) \
                and adapter.configured():
            return adapter
    return None


def _extra(adapter: Adapter, sending: Sending) -> dict:
    """Provider-specific arguments: the idempotency key (providers that take one drop a repeat), and outside
    WhatsApp's 24-hour window the approved template named after the purpose, with its values."""
    extra = {"idempotency_key": sending.idempotency_key}
    window_open = getattr(adapter, "window_open", None)
    if callable(window_open) and not window_open(sending.last_inbound_at):
        extra |= {"template": sending.purpose, "variables": sending.variables}
    return extra


@job_handler(SEND_JOB, label=gettext_lazy("Send a message"))
def send_outbound(job) -> str:
    sending = outbox_prepare(outbound_id=job.payload["outbound_id"])
    if sending is None:
        return "nothing to send now"
    adapter = sender_for(sending.channel)
    if adapter is None:
        outbox_failed(outbound_id=sending.outbound_id, final=True,
                      error=f"no provider configured to send by {sending.channel}")
        return "no provider"
    try:
        provider_id = adapter.send(to=sending.to, text=sending.body, **_extra(adapter, sending))
    except SendFailed as exc:
        final = not exc.retry or job.attempts >= job.max_attempts
        outbox_failed(outbound_id=sending.outbound_id, error=str(exc), final=final)
        if not final:
            raise  # the engine retries with backoff
        return "failed"
    outbox_sent(outbound_id=sending.outbound_id, provider_message_id=provider_id)
    return "sent"
