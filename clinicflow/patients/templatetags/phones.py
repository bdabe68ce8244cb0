from django import template
from django.utils.html import format_html

from clinicflow.patients.phones import format_phone

register = template.Library()


@register.filter
def phone_link(phone: str) -> str:
    """A phone as a tel: link, so a click dials it (a softphone, or the desk's phone through the PBX).
    Takes the stored E.164 form or an already formatted one; empty stays empty."""
    if not phone:
        return ""
    dialled = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return format_html('<a href="tel:{}" class="cf-phone text-nowrap">{}</a>', dialled, format_phone(dialled))
