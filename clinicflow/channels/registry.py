"""The channels clinicflow speaks. Adding a messenger is one module and one line here (and its webhook URL
follows from the name)."""

from functools import cache

from django.utils.module_loading import import_string

from .base import Adapter

# Webhook path under /hooks/ → the adapter class (imported when first used).
ADAPTERS: dict[str, str] = {
    "whatsapp": "clinicflow.channels.whatsapp.WhatsApp",
    "sms/twilio": "clinicflow.channels.sms_twilio.TwilioSms",
    "sms/smsru": "clinicflow.channels.sms_smsru.SmsRu",
    "telephony/zadarma": "clinicflow.channels.telephony_zadarma.Zadarma",
    "telephony/generic": "clinicflow.channels.telephony_generic.GenericTelephony",
}


@cache
def adapter_for(name: str) -> Adapter | None:
    path = ADAPTERS.get(name)
    return import_string(path)() if path else None
