"""Outbound messages: templates rendered at queue time, the outbox row written with its cause, the consent
gate and the send guards at queue time and again right before the provider call (which the channels app
makes, in the "messaging.send" job, after commit)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.automation.services import job_plan
from clinicflow.clinic.models import Branch
from clinicflow.compliance.models import Consent
from clinicflow.compliance.services import consent_allows, consent_withdraw
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import inquiry_respond, message_delivery_update
from clinicflow.patients.models import Channel, Patient
from clinicflow.scheduling.models import Appointment
from clinicflow.tasks.models import Task

from .models import MARKETING_PURPOSES, MessageTemplate, OutboundMessage, Purpose, template_render, template_variables

SEND_JOB = "messaging.send"
Status, Reason = OutboundMessage.Status, OutboundMessage.Reason

# Channels we can write to (a phone call or the website are ways in, not out).
SENDABLE = (Channel.TELEGRAM, Channel.WHATSAPP, Channel.VK, Channel.MAX, Channel.SMS, Channel.EMAIL)
MESSENGERS = (Channel.TELEGRAM, Channel.WHATSAPP, Channel.VK, Channel.MAX, Channel.EMAIL)
# Purposes about a visit still to come: pointless (and wrong) once it is cancelled or past.
ABOUT_A_COMING_VISIT = (Purpose.REMINDER, Purpose.CONFIRMATION)
# Answers to what the patient just wrote: part of a conversation they started, so not held for the night.
ANSWERS = (Purpose.REPLY, Purpose.OPT_OUT)
# An appointment still to happen.
COMING = (Appointment.Status.REQUESTED, Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


# --- whom and by what ---------------------------------------------------------------------------


def recipients_for(patient: Patient) -> dict[str, str]:
    """Where messages about `patient` reach a person: channel → address.

    The one place that decides whom we write to: every sender asks it. Today that is the patient's own
    accounts (a phone number serves SMS and WhatsApp); a representative (a child's parent), once the
    clinic records them, is answered here for a patient without addresses of their own.
    """
    addresses: dict[str, str] = {}
    phone = ""
    for identity in patient.identities.all():
        if identity.channel == Channel.PHONE:
            phone = phone or identity.address
        elif identity.channel in SENDABLE:
            addresses.setdefault(identity.channel, identity.address)
    if phone:
        addresses.setdefault(Channel.WHATSAPP, phone)
        addresses.setdefault(Channel.SMS, phone)
    if patient.email:
        addresses.setdefault(Channel.EMAIL, patient.email)
    return addresses


def channel_choose(patient: Patient, channel: str | None = None) -> tuple[str, str]:
    """(channel, address): the one asked for; else the patient's preferred messenger when we have their
    address on it; else WhatsApp; else SMS; else e-mail. An empty address: nowhere to write."""
    addresses = recipients_for(patient)
    if channel:
        return channel, addresses.get(channel, "")
    preferred = [patient.preferred_channel] if patient.preferred_channel in MESSENGERS else []
    for candidate in [*preferred, Channel.WHATSAPP, Channel.SMS, Channel.EMAIL]:
        if addresses.get(candidate):
            return candidate, addresses[candidate]
    return "", ""


def consent_reason(patient: Patient, kind: str, channel: str) -> str:
    """The consent gate, with the reason when it says no ("" when it allows)."""
    purpose = Consent.Purpose.MARKETING if kind == OutboundMessage.Kind.MARKETING else Consent.Purpose.SERVICE
    # One query when it allows (every send asks); the second only tells which reason a refusal has.
    if consent_allows(patient, purpose, channel):
        return ""
    return Reason.NO_CROSS_BORDER if consent_allows(patient, purpose) else Reason.NO_CONSENT


# --- what it says -------------------------------------------------------------------------------


def template_for(*, purpose: str, channel: str, language: str) -> MessageTemplate | None:
    """The channel's own template in the patient's language, else the any-channel one, else the same in
    the clinic's other language (better an English reminder than none)."""
    candidates = MessageTemplate.objects.filter(purpose=purpose, active=True, channel__in=[channel, ""])
    ranked = sorted(candidates, key=lambda t: (t.language != language, t.channel != channel))
    return ranked[0] if ranked else None


def first_name_of(full_name: str) -> str:
    """Russian cards read "Surname Name Patronymic"; others "Name Surname"."""
    words = full_name.split()
    if len(words) == 3:
        return words[1]
    return words[0] if words else ""


def message_context(*, patient: Patient, branch: Branch, appointment: Appointment | None = None) -> dict:
    """The template values: names and times only, never what the visit is for (medical secrecy)."""
    values = {"first_name": first_name_of(patient.full_name),
              "clinic": settings.CLINICFLOW_CLINIC_NAME or branch.name,
              "branch_address": branch.address, "branch_phone": branch.phone}
    if appointment is not None:
        local = appointment.starts_at.astimezone(branch.zone)
        values |= {"doctor": appointment.doctor.full_name, "time": local.strftime("%H:%M"),
                   "date": local.strftime("%d.%m.%Y" if patient.language == "ru" else "%d %b %Y")}
    return values


def message_template_save(*, purpose: str, language: str, body: str, channel: str = "",
                          active: bool = True) -> MessageTemplate:
    """Create or change the template for (purpose, channel, language); an unknown variable is refused."""
    template = MessageTemplate.objects.filter(purpose=purpose, channel=channel, language=language).first() \
        or MessageTemplate(purpose=purpose, channel=channel, language=language)
    template.body, template.active = body, active
    template.full_clean()
    template.save()
    return template


# --- queueing -----------------------------------------------------------------------------------


def message_queue(*, patient: Patient, purpose: str, key: str, template: MessageTemplate | None = None,
                  text: str | None = None, channel: str | None = None, context: dict | None = None,
                  not_before: datetime | None = None, branch: Branch | None = None,
                  appointment: Appointment | None = None, conversation_message: Message | None = None
                  ) -> OutboundMessage:
    """Queue one message for its cause, in the caller's transaction; the send job runs after commit.

    `key` names the cause ("reminder:appointment:12:24h"): queueing it again returns the first row and
    sends nothing more. A message the consent gate refuses (or with nowhere to go) is kept as blocked
    with its reason, so the card shows why the patient heard nothing.
    """
    existing = OutboundMessage.objects.filter(idempotency_key=key).first()
    if existing:
        return existing
    kind = OutboundMessage.Kind.MARKETING if purpose in MARKETING_PURPOSES else OutboundMessage.Kind.SERVICE
    branch = branch or (appointment.branch if appointment else patient.branch)
    channel, to = channel_choose(patient, channel)
    values = message_context(patient=patient, branch=branch, appointment=appointment) | (context or {})
    body, names = ((text or "").strip(), []) if (text or "").strip() else \
        _rendered(template, purpose, channel, patient.language, values)
    reason = consent_reason(patient, kind, channel) if to else Reason.NO_ADDRESS
    try:
        with transaction.atomic():
            row = OutboundMessage.objects.create(
                patient=patient, branch=branch, purpose=purpose, kind=kind, channel=channel, to=to, body=body,
                variables=[str(values.get(name, "")) for name in names], idempotency_key=key,
                status=Status.BLOCKED if reason else Status.QUEUED, blocked_reason=reason, not_before=not_before,
                appointment=appointment, message=conversation_message)
            if reason:
                _mirror_on_conversation(row)
            else:
                _plan_send(row, not_before or timezone.now())
    except IntegrityError:
        return OutboundMessage.objects.get(idempotency_key=key)  # the same cause, queued by a racing request
    return row


def _rendered(template: MessageTemplate | None, purpose: str, channel: str, language: str,
              values: dict) -> tuple[str, list[str]]:
    """The text, and the variables it names in order (a WhatsApp template's {{1}}, {{2}}... outside 24 h)."""
    template = template or template_for(purpose=purpose, channel=channel, language=language)
    if template is None:
        raise ValidationError({"template": _("No active template for “%(purpose)s”: add one in Settings.") % {
            "purpose": Purpose(purpose).label}})
    return template_render(template.body, values), list(dict.fromkeys(template_variables(template.body)))


def _plan_send(row: OutboundMessage, due_at: datetime) -> None:
    # One job per (message, channel, due time): a postponement or a fallback is a new job, a retry the same one.
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:24]
    job_plan(kind=SEND_JOB, due_at=due_at, key=f"{SEND_JOB}:{digest}:{row.channel}:{int(due_at.timestamp())}",
             payload={"outbound_id": row.pk}, patient_id=row.patient_id, branch_id=row.branch_id)


def _mirror_on_conversation(row: OutboundMessage) -> None:
    """The inquiry's line of this message shows how far it got, like the outbox row. Why it was held back is
    the row's reason code, shown in the reader's language (`message.outbound`), never stored as text here."""
    if row.message_id is None:
        return
    delivery = {Status.QUEUED: Message.Delivery.QUEUED, Status.SENT: Message.Delivery.SENT}.get(
        row.status, Message.Delivery.FAILED)
    fields = {"channel": row.channel, "delivery": delivery, "delivery_error": row.error[:500],
              "delivery_changed_at": timezone.now()}
    if row.provider_message_id:
        fields["external_id"] = row.provider_message_id
    Message.objects.filter(pk=row.message_id).update(**fields)


# --- sending (called by the channels app's send job) --------------------------------------------


@dataclass(frozen=True)
class Sending:
    """What the provider call needs, once every check has passed."""

    outbound_id: int
    channel: str
    to: str
    body: str
    purpose: str
    language: str
    variables: list[str]
    idempotency_key: str
    last_inbound_at: datetime | None
    message_id: int | None = None  # the conversation's line that mirrors this message, if any


def outbox_prepare(*, outbound_id: int) -> Sending | None:
    """Right before the provider call: consent and every send guard again, now. None: nothing to send now
    (already sent or cancelled, blocked with its reason, or postponed to the next allowed time)."""
    row = OutboundMessage.objects.select_related("patient", "branch", "appointment").filter(pk=outbound_id).first()
    if row is None or row.status != Status.QUEUED:
        return None
    now = timezone.now()
    if row.not_before and row.not_before > now:
        _plan_send(row, row.not_before)
        return None
    status, reason, later = send_guard(row, now)
    if later:
        OutboundMessage.objects.filter(pk=row.pk, status=Status.QUEUED).update(blocked_reason=reason, not_before=later)
        _plan_send(row, later)
        return None
    if status:
        _finish(row, status=status, reason=reason)
        return None
    # Two runs of one job (a reclaimed lease) must not both send: the one that moves the attempt count wins.
    if not OutboundMessage.objects.filter(pk=row.pk, status=Status.QUEUED, attempts=row.attempts).update(
            attempts=F("attempts") + 1, blocked_reason=""):
        return None
    # Only WhatsApp limits free text to 24 hours after the patient's last message: other channels skip the query.
    last_inbound_at = _last_inbound_at(row.patient, row.channel) if row.channel == Channel.WHATSAPP else None
    return Sending(outbound_id=row.pk, channel=row.channel, to=row.to, body=row.body, purpose=row.purpose,
                   language=row.patient.language, variables=row.variables, idempotency_key=row.idempotency_key,
                   last_inbound_at=last_inbound_at, message_id=row.message_id)


def send_guard(row: OutboundMessage, now: datetime) -> tuple[str, str, datetime | None]:
    """(final status, reason, postponed to): what holds the message back now, if anything."""
    if reason := consent_reason(row.patient, row.kind, row.channel):
        return Status.BLOCKED, reason, None
    visit = row.appointment
    if visit is not None and row.purpose in ABOUT_A_COMING_VISIT:
        if visit.status not in COMING or visit.starts_at <= now:
            return Status.CANCELLED, Reason.VISIT_GONE, None
        if visit.messaged_by_aggregator:
            return Status.BLOCKED, Reason.AGGREGATOR, None
        lead = timedelta(minutes=settings.CLINICFLOW_REMINDER_MIN_LEAD_MINUTES)
        if row.purpose == Purpose.REMINDER and visit.starts_at - now < lead:
            return Status.BLOCKED, Reason.LEAD_TIME, None
    if row.channel == Channel.SMS and is_landline(row.to):
        return Status.BLOCKED, Reason.LANDLINE, None
    if row.kind == OutboundMessage.Kind.MARKETING:
        if Task.objects.filter(patient=row.patient, kind=Task.Kind.COMPLAINT, done_at__isnull=True).exists():
            return Status.BLOCKED, Reason.OPEN_COMPLAINT, None
        if marketing_sent_this_week(row.patient, now) >= settings.CLINICFLOW_MARKETING_PER_WEEK:
            return Status.BLOCKED, Reason.FREQUENCY_CAP, None
    if row.purpose not in ANSWERS:
        allowed = next_allowed_time(now, row.branch.zone)
        if allowed > now:
            return "", Reason.QUIET_HOURS, allowed
    return "", "", None


def is_landline(phone: str) -> bool:
    try:
        number = phonenumbers.parse(phone, settings.CLINICFLOW_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE


def marketing_sent_this_week(patient: Patient, now: datetime) -> int:
    return OutboundMessage.objects.filter(patient=patient, kind=OutboundMessage.Kind.MARKETING,
                                          status__in=[Status.SENT, Status.DELIVERED, Status.READ],
                                          sent_at__gte=now - timedelta(days=7)).count()


def send_hours() -> tuple[time, time]:
    """CLINICFLOW_SEND_HOURS, "09:00-21:00": when messages may go out, in each branch's own zone."""
    start, end = (time.fromisoformat(part.strip()) for part in settings.CLINICFLOW_SEND_HOURS.split("-"))
    return start, end


def next_allowed_time(now: datetime, zone) -> datetime:
    """`now` if it is within the allowed hours in `zone`, else the next moment they begin."""
    start, end = send_hours()
    local = now.astimezone(zone)
    if start <= local.time() < end:
        return now
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=zone).astimezone(now.tzinfo)


def _last_inbound_at(patient: Patient, channel: str) -> datetime | None:
    """When the patient last wrote us on `channel` (WhatsApp lets free text only within 24 hours of it)."""
    last = Message.objects.filter(inquiry__patient=patient, channel=channel, direction=Message.Direction.INBOUND)
    return last.order_by("-created_at").values_list("created_at", flat=True).first()


def _finish(row: OutboundMessage, *, status: str, reason: str = "", error: str = "") -> None:
    OutboundMessage.objects.filter(pk=row.pk, status=Status.QUEUED).update(
        status=status, blocked_reason=reason, error=error[:500], status_changed_at=timezone.now())
    row.refresh_from_db()
    _mirror_on_conversation(row)


def outbox_cancel_for_visit(*, appointment: Appointment) -> int:
    """The visit was moved or cancelled: its queued reminders (written with the old time) go nowhere."""
    return OutboundMessage.objects.filter(appointment=appointment, status=Status.QUEUED,
                                          purpose__in=ABOUT_A_COMING_VISIT).update(
        status=Status.CANCELLED, blocked_reason=Reason.VISIT_GONE, status_changed_at=timezone.now())


def outbox_sent(*, sending: Sending, provider_message_id: str) -> None:
    """The provider took the message."""
    now = timezone.now()
    fields = {"status": Status.SENT, "provider_message_id": provider_message_id[:200], "error": ""}
    if OutboundMessage.objects.filter(pk=sending.outbound_id, status=Status.QUEUED).update(
            **fields, sent_at=now, status_changed_at=now):
        # What the row now holds is known without reading it back (one query less on every send).
        row = OutboundMessage(pk=sending.outbound_id, channel=sending.channel, message_id=sending.message_id, **fields)
    else:
        row = OutboundMessage.objects.get(pk=sending.outbound_id)  # moved on meanwhile: mirror what it is
    _mirror_on_conversation(row)


def outbox_failed(*, outbound_id: int, error: str, final: bool) -> OutboundMessage:
    """The provider refused. Not final: the job tries again later. Final: a WhatsApp message falls back to
    SMS when the clinic wants that (CLINICFLOW_WHATSAPP_FALLBACK_SMS); anything else is failed."""
    row = OutboundMessage.objects.select_related("patient").get(pk=outbound_id)
    if not final:
        OutboundMessage.objects.filter(pk=row.pk).update(error=error[:500])
        return row
    if not _fall_back_to_sms(row, error):
        _finish(row, status=Status.FAILED, error=error)
    row.refresh_from_db()
    return row


def _fall_back_to_sms(row: OutboundMessage, error: str) -> bool:
    phone = recipients_for(row.patient).get(Channel.SMS, "")
    if row.channel != Channel.WHATSAPP or not settings.CLINICFLOW_WHATSAPP_FALLBACK_SMS or not phone:
        return False
    # The new channel passes the gate like any other send (and again when its job runs).
    reason = consent_reason(row.patient, row.kind, Channel.SMS)
    error = f"WhatsApp: {error}"[:500]
    OutboundMessage.objects.filter(pk=row.pk).update(
        channel=Channel.SMS, to=phone, error=error, status=Status.BLOCKED if reason else Status.QUEUED,
        blocked_reason=reason, provider_message_id="", status_changed_at=timezone.now())
    row.refresh_from_db()
    if reason:
        _mirror_on_conversation(row)
    else:
        _plan_send(row, timezone.now())
    return True


def outbox_delivery_update(*, channel: str, external_id: str, status: str, error: str = "",
                           at: datetime | None = None) -> bool:
    """A provider's delivery report: moves the outbox row (only forward) and the conversation's line.

    "failed" counts only before the patient got the message; a failed WhatsApp message falls back to SMS
    when configured. Returns whether anything changed.
    """
    changed = message_delivery_update(channel=channel, external_id=external_id, status=status, error=error, at=at)
    if status == Status.FAILED:
        before = OutboundMessage.STEPS[:2]
    else:
        before = OutboundMessage.STEPS[:OutboundMessage.STEPS.index(status)]
    rows = OutboundMessage.objects.filter(channel=channel, provider_message_id=external_id, status__in=before)
    row = rows.select_related("patient").first()
    if row is None:
        return changed
    rows.update(status=status, error=error[:500], status_changed_at=at or timezone.now())
    if status == Status.FAILED:
        _fall_back_to_sms(row, error or _("failed"))
    return True


# --- replies and opt-outs -----------------------------------------------------------------------


def inquiry_reply_send(*, inquiry: Inquiry, by, text: str, channel: str | None = None) -> OutboundMessage:
    """Answer the patient in writing: the answer is recorded on the inquiry (the first one stops the
    response clock) and queued by the channel the patient last wrote on, or the one chosen."""
    if channel and channel not in SENDABLE:
        raise ValidationError({"channel": _("Messages cannot be sent by “%(channel)s”.") % {"channel": channel}})
    with transaction.atomic():
        message = inquiry_respond(inquiry=inquiry, by=by, text=text)
        return message_queue(patient=inquiry.patient, purpose=Purpose.REPLY, key=f"reply:message:{message.pk}",
                             text=message.body, channel=channel or last_channel(inquiry), branch=inquiry.branch,
                             conversation_message=message)


def last_channel(inquiry: Inquiry) -> str | None:
    """The channel the patient last wrote on, when we can write back on it."""
    channels = Message.objects.filter(inquiry__patient=inquiry.patient, direction=Message.Direction.INBOUND)
    newest = channels.order_by("-created_at", "-id").values_list("channel", flat=True).first() or inquiry.channel
    return newest if newest in SENDABLE else None


def opt_out_words() -> set[str]:
    return {word.strip().upper() for word in settings.CLINICFLOW_OPT_OUT_WORDS.split(",") if word.strip()}


def inbound_opt_out_check(*, inquiry: Inquiry, text: str, channel: str, key: str) -> bool:
    """An inbound message that is only an opt-out word ("STOP", "СТОП") withdraws marketing consent, drops
    queued marketing and confirms it to the patient on the same channel. Returns whether it was one."""
    if text.strip().strip(".!").upper() not in opt_out_words():
        return False
    patient = inquiry.patient
    consent_withdraw(patient=patient, purpose=Consent.Purpose.MARKETING, source=channel)
    OutboundMessage.objects.filter(patient=patient, kind=OutboundMessage.Kind.MARKETING, status=Status.QUEUED
                                   ).update(status=Status.CANCELLED, blocked_reason=Reason.OPTED_OUT,
                                            status_changed_at=timezone.now())
    message_queue(patient=patient, purpose=Purpose.OPT_OUT, key=f"opt-out:{key}",
                  channel=channel if channel in SENDABLE else None, branch=inquiry.branch)
    return True
