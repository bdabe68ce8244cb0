"""The outbound half of the channels: the "messaging.send" job hands a queued message to its provider.

Messaging decides what, to whom and whether (consent, send guards) and records the outcome; this module
only finds the channel module that sends on the channel and makes the call, outside any transaction.
"""

from importlib import import_module
from types import ModuleType

from django.conf import settings
from django.utils.translation import gettext_lazy

from clinicflow.automation.registry import job_handler
from clinicflow.messaging.services import SEND_JOB, Sending, outbox_failed, outbox_prepare, outbox_sent
from clinicflow.patients.models import Channel

from .base import SendFailed

# Who sends on each channel, in order of preference: (name, channel module with `send`, the setting without
# which it cannot send). A new provider is one line here. For SMS, CLINICFLOW_SMS_PROVIDER picks one by name.
SENDERS: dict[str, list[tuple[str, str, str]]] = {
    Channel.WHATSAPP: [("whatsapp", "clinicflow.channels.whatsapp", "CLINICFLOW_WHATSAPP_TOKEN")],
    Channel.SMS: [("sms/twilio", "clinicflow.channels.sms_twilio", "CLINICFLOW_TWILIO_AUTH_TOKEN"),
                  ("sms/smsru", "clinicflow.channels.sms_smsru", "CLINICFLOW_SMSRU_API_ID")],
    Channel.EMAIL: [("email", "clinicflow.channels.email", "CLINICFLOW_EMAIL_FROM")],
    Channel.TELEGRAM: [("telegram", "clinicflow.channels.telegram", "CLINICFLOW_TELEGRAM_BOT_TOKEN")],
    Channel.MAX: [("max", "clinicflow.channels.max", "CLINICFLOW_MAX_BOT_TOKEN")],
    Channel.VK: [("vk", "clinicflow.channels.vk", "CLINICFLOW_VK_TOKEN")],
}


def sender_for(channel: str) -> ModuleType | None:
    """The channel module that sends on `channel`, if one is configured."""
    chosen = settings.CLINICFLOW_SMS_PROVIDER if channel == Channel.SMS else ""
    for name, path, setting in SENDERS.get(channel, []):
        if (not chosen or name == chosen) and getattr(settings, setting, ""):
            return import_module(path)
    return None


def _send(sender, sending: Sending) -> str:
    """Free text; outside WhatsApp's 24-hour window the approved template named after the purpose instead."""
    window_open = getattr(sender, "window_open", None)
    if window_open is not None and not window_open(sending.last_inbound_at):
        template = sender.Template(name=sending.purpose, language=sending.language,
                                   variables=tuple(sending.variables))
        return sender.send(to=sending.to, template=template)
    return sender.send(to=sending.to, text=sending.body)


@job_handler(SEND_JOB, label=gettext_lazy("Send a message"))
def send_outbound(job) -> str:
    sending = outbox_prepare(outbound_id=job.payload["outbound_id"])
    if sending is None:
        return "nothing to send now"
    sender = sender_for(sending.channel)
    if sender is None:
        outbox_failed(outbound_id=sending.outbound_id, final=True,
                      error=f"no provider configured to send by {sending.channel}")
        return "no provider"
    try:
        provider_id = _send(sender, sending)
    except SendFailed as exc:
        final = not exc.retry or job.attempts >= job.max_attempts
        outbox_failed(outbound_id=sending.outbound_id, error=str(exc), final=final)
        if not final:
            raise  # the engine retries with backoff
        return "failed"
    outbox_sent(sending=sending, provider_message_id=provider_id)
    return "sent"
