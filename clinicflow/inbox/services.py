from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinicflow import gates
from clinicflow.accounts.models import Role
from clinicflow.automation import events
from clinicflow.automation.events import event_emit
from clinicflow.automation.services import job_cancel
from clinicflow.clinic.cache import branch_calendar_cached, clinic_settings_cached
from clinicflow.clinic.models import Branch, Service, Specialty
from clinicflow.compliance.models import Consent
from clinicflow.compliance.services import consent_record, consents_record_new
from clinicflow.core.ratelimit import rate_limit_allows
from clinicflow.funnel.services import case_lose_if_fresh, case_open_for, lost_reason_named
from clinicflow.patients.models import Channel, Patient, Representative
from clinicflow.patients.phones import normalize_phone
from clinicflow.patients.services import patient_current, patient_resolve, phone_owner
from clinicflow.tasks.models import Task

from .access import inquiries_at_work
from .models import Inquiry, Message

ESCALATE_JOB = "inquiry.escalate"
PUBLIC_SCOPE = "public-inquiry"  # the rate limit of the public form (API and page)
NEXT_TRIES = 20  # colleagues taking the same inquiries at the same moment; more than this, and "Next" gives up
CONSENT_REQUIRED = gettext_lazy("The patient's consent to the processing of personal data is required.")


def consent_text() -> str:
    """What the website form and widget ask the visitor to agree to; its version is kept with the consent."""
    return _("I agree to the processing of my personal data to answer this request (consent text version "
             "%(version)s).") % {"version": settings.CLINICFLOW_CONSENT_TEXT_VERSION}


class Received(StrEnum):
    """What a delivery did: opened an inquiry, joined the waiting one, or was seen before (nothing written)."""

    CREATED = "created"
    JOINED = "joined"
    DUPLICATE = "duplicate"


@dataclass
class InquiryDraft:
    """What a channel knows about an incoming contact, before it becomes an Inquiry (or joins one).

    Every way in (the web form, staff typing a call, each channel's webhook) builds one of these and hands it
    to `inquiry_receive`.
    """

    channel: str
    phone: str = ""
    # The account that wrote, on `channel` (a Telegram chat id, a WhatsApp number, a mailbox): with it the
    # phone is optional, and the account itself finds the patient next time.
    sender: str = ""
    kind: str = Message.Kind.TEXT
    full_name: str = ""
    email: str = ""
    text: str = ""
    consent: bool = False  # to the processing of personal data, and to being contacted about this inquiry
    marketing_consent: bool = False
    consent_text_version: str = ""
    # The contact came from the number itself (a call taken by staff, an SMS, a messenger message), so it
    # confirms consents given for that number; a web form only claims a number.
    number_verified: bool = False
    branch_id: int | None = None
    specialty_id: int | None = None
    service_id: int | None = None
    preferred_time: str = ""
    utm: dict = field(default_factory=dict)
    page_url: str = ""
    referrer: str = ""
    external_id: str = ""
    ip_address: str | None = None
    received_at: datetime | None = None

    @property
    def on_own_initiative(self) -> bool:
        """The person wrote or called from a number or account of theirs, unprompted. Their request is itself
        the ground to process it and to answer it (152-FZ art. 6 §1 p. 5), so no consent box is needed;
        marketing never follows from it."""
        return (self.number_verified or bool(self.sender)) and self.channel not in (Channel.WEB, Channel.WALK_IN)


def _validated(draft: InquiryDraft, created_by=None) -> tuple[dict, dict]:
    """Check every field at once so the sender learns all its mistakes in one answer."""
    errors, found = {}, {"phone": ""}
    if draft.phone.strip() or not draft.sender:
        try:
            found["phone"] = normalize_phone(draft.phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages[0]
    if draft.email.strip():
        try:
            validate_email(draft.email.strip())
        except ValidationError:
            errors["email"] = _("“%(email)s” is not a valid e-mail address.") % {"email": draft.email.strip()}
    if not draft.consent and not draft.on_own_initiative:
        errors["consent"] = str(CONSENT_REQUIRED)
    if draft.channel not in Channel.values:
        errors["channel"] = _("Unknown channel “%(channel)s”.") % {"channel": draft.channel}
    found["branch"], branch_error = _branch_for(draft, created_by)
    if branch_error:
        errors["branch"] = branch_error
    for name, model in (("specialty", Specialty), ("service", Service)):
        pk = getattr(draft, f"{name}_id")
        found[name] = model.objects.filter(pk=pk).first() if pk else None
        if pk and found[name] is None:
            errors[name] = _("No %(what)s with id %(id)s.") % {"what": name, "id": pk}
    for name in ("page_url", "referrer"):
        value = getattr(draft, name).strip()
        if value and not value.lower().startswith(("http://", "https://")):
            errors[name] = _("Expected an http(s) address, got “%(value)s”.") % {"value": value[:80]}
    unknown = set(draft.utm) - set(Inquiry.UTM_FIELDS)
    if unknown:
        errors["utm"] = _("Unknown UTM fields: %(names)s.") % {"names": ", ".join(sorted(unknown))}
    return found, errors


def _branch_for(draft: InquiryDraft, created_by) -> tuple[Branch | None, str]:
    """The branch an inquiry goes to, or why there is none.

    Staff file inquiries for their own branches only (their first by default): one filed elsewhere would
    vanish from their sight. The public form may name any branch; without one it goes to the clinic's default
    branch (Settings → Clinic settings). Never "the first": adding a branch named "Kazan" would silently
    re-route every web lead there.
    """
    branches = gates.branches_at_work(created_by) if created_by else Branch.objects.all()
    if draft.branch_id:
        branch = branches.filter(pk=draft.branch_id).first()
        return branch, "" if branch else _("No such branch.")
    if created_by:
        branch = branches.first()
        return branch, "" if branch else _("You work for no branch.")
    branch = clinic_settings_cached().default_branch
    if branch is None:
        only = list(branches[:2])
        branch = only[0] if len(only) == 1 else None
        if branch is None:
            return None, (_("The clinic has no branch yet.") if not only else
                          _("Choose a branch: the clinic has several and names no default one."))
    return branch, ""


def inquiry_receive(*, draft: InquiryDraft, created_by=None, savepoint: bool = True) -> tuple[Inquiry, Received]:
    """Turn an incoming contact into a queued inquiry, or add it to the one already waiting. Returns
    (inquiry, what happened).

    One person, one queue row: a message or a call from a patient whose inquiry at that branch still waits
    joins that inquiry's conversation (the queue shows the newest message) instead of adding a second row.
    All or nothing: the patient, consent, case, inquiry, message and escalation job are written in one
    transaction. A delivery seen before (same channel and provider id) returns its inquiry and creates nothing.

    `savepoint=False`: the caller's transaction holds this one (a webhook's event, the public form with its
    rate-limit hit: one commit, no savepoint). A parallel delivery of the same event then raises IntegrityError
    out of the caller's transaction; the caller runs again and gets the DUPLICATE answer.
    """
    seen = _delivered(draft)
    if seen:
        return seen, Received.DUPLICATE
    found, errors = _validated(draft, created_by)
    if errors:
        raise ValidationError(errors)
    branch, received_at = found["branch"], draft.received_at or timezone.now()
    if not savepoint:
        with transaction.atomic(savepoint=False):
            return _receive(draft, found, branch, received_at, created_by)
    try:
        with transaction.atomic():
            return _receive(draft, found, branch, received_at, created_by)
    except IntegrityError:
        # The same delivery raced us in another process; it won.
        seen = _delivered(draft)
        if seen is None:
            raise
        return seen, Received.DUPLICATE


def inquiry_receive_public(*, draft: InquiryDraft, client: str) -> tuple[Inquiry, Received] | None:
    """The public form's way in (the API and the page without JavaScript): the client's rate-limit hit and the
    inquiry in one transaction, one commit. None when the client sent too many in the last minute.

    A refused inquiry counts its hit too, in a statement of its own (the transaction that held it rolled back).
    """
    limit = settings.CLINICFLOW_PUBLIC_RATE_LIMIT
    try:
        with transaction.atomic():
            if not rate_limit_allows(scope=PUBLIC_SCOPE, client=client, limit=limit):
                return None
            return inquiry_receive(draft=draft, savepoint=False)
    except ValidationError:
        rate_limit_allows(scope=PUBLIC_SCOPE, client=client, limit=limit)
        raise
    except IntegrityError:
        # A parallel submission with the same request id won: this one is its duplicate.
        return inquiry_receive(draft=draft)


def _delivered(draft: InquiryDraft) -> Inquiry | None:
    """The inquiry a delivery with this provider id already reached, if any: one query while there is none.

    A new inquiry carries the id (and so does its first message, if any); a delivery that joined a waiting
    inquiry, only its message.
    """
    if not draft.external_id:
        return None
    key = {"channel": draft.channel, "external_id": draft.external_id}
    reached = Inquiry.objects.filter(**key).order_by().values_list("pk").union(
        Message.objects.filter(**key).order_by().values_list("inquiry_id"), all=True)[:1]
    row = next(iter(reached), None)
    return None if row is None else Inquiry.objects.get(pk=row[0])


def _receive(draft: InquiryDraft, found: dict, branch: Branch, received_at: datetime,
             created_by) -> tuple[Inquiry, Received]:
    # Staff on the phone with the person may fill a card's blanks; an anonymous sender changes no stored patient.
    # An account that sent its own number proves it owns it (a shared Telegram contact, a WhatsApp number).
    proven = bool(draft.sender and found["phone"] and draft.number_verified)
    patient, created = patient_resolve(branch=branch, phone=found["phone"], full_name=draft.full_name,
                                       email=draft.email, fill_blanks=created_by is not None,
                                       address=(draft.channel, draft.sender) if draft.sender else None,
                                       phone_proven=proven)
    if not created:  # a card made in this transaction is nobody else's to merge yet
        patient = patient_current(patient)  # locked: a merge of this card waits until the delivery is written
    _record_consents(draft, patient, new_patient=created, number_verified=draft.number_verified or bool(created_by))
    # Identity (issue 6): the sender's waiting inquiry may be about someone they act for (Inquiry.contact).
    waiting = None if created else (Inquiry.objects.select_for_update().waiting()
                                    .filter(Q(patient=patient) | Q(contact=patient), branch=branch)
                                    .order_by("received_at", "id").first())
    if waiting:
        _join(waiting, draft, received_at)
        inquiry, received = waiting, Received.JOINED
    else:
        inquiry = _create(draft, found, patient, branch, received_at, created_by, patient_is_new=created)
        received = Received.CREATED
        _ask_whom_it_is_about(inquiry, sender_is_new=created)  # identity (issue 6)
    if proven:
        _note_other_owner(inquiry, found["phone"])
    return inquiry, received


def _note_other_owner(inquiry: Inquiry, e164: str) -> None:
    """The account proved a number that stays on another card (the account's own card is more than a stub):
    people decide whether the two are one person, so the inquiry says so."""
    owner = phone_owner(e164)
    if owner is None or owner.pk == inquiry.patient_id:
        return
    text = _("This account also proved the number of card #%(card)s. If they are one person, merge the cards.") % {
        "card": owner.pk}
    if not inquiry.messages.filter(direction=Message.Direction.NOTE, body=text).exists():  # once per inquiry
        Message.objects.create(inquiry=inquiry, direction=Message.Direction.NOTE, body=text)


def _join(inquiry: Inquiry, draft: InquiryDraft, received_at: datetime) -> None:
    """A further message or call for a waiting inquiry: one more line in its conversation. What the new
    delivery adds (a name typed, UTM tags of a second form) fills the inquiry's blanks; nothing is overwritten."""
    _message_from(inquiry, draft, received_at, joined=True)
    blanks = {name: value for name, value in _given(draft).items() if value and not getattr(inquiry, name)}
    Inquiry.objects.filter(pk=inquiry.pk).update(changed_at=timezone.now(), **blanks)


def _given(draft: InquiryDraft) -> dict:
    return {"given_name": draft.full_name.strip()[:160], "given_email": draft.email.strip(),
            "preferred_time": draft.preferred_time[:200], "page_url": draft.page_url[:1000],
            "referrer": draft.referrer[:1000],
            **{name: str(draft.utm.get(name, ""))[:200] for name in Inquiry.UTM_FIELDS}}


def _message_from(inquiry: Inquiry, draft: InquiryDraft, received_at: datetime, *, joined: bool = False) -> None:
    """The delivery's line in the conversation. A new inquiry from a form or a call without words needs none;
    joining another inquiry it does (the line is what shows the second contact). A sticker or a voice message
    has no text but is kept as what it was."""
    text, kind = draft.text.strip(), draft.kind
    if kind == Message.Kind.TEXT and draft.channel == Channel.PHONE:
        kind = Message.Kind.CALL  # what the desk wrote down of a call
    if not text and kind == Message.Kind.TEXT:
        if not joined:
            return
        kind = Message.Kind.FORM if draft.channel == Channel.WEB else kind
    message = Message.objects.create(inquiry=inquiry, direction=Message.Direction.INBOUND, kind=kind,
                                     channel=draft.channel, external_id=draft.external_id, body=text,
                                     created_at=received_at)
    event_emit(events.REPLY_RECEIVED, inquiry_id=inquiry.pk, message_id=message.pk, message=message)


def _create(draft: InquiryDraft, found: dict, patient, branch: Branch, received_at: datetime,
            created_by, *, patient_is_new: bool) -> Inquiry:
    case, _created = case_open_for(patient=patient, branch=branch, by=created_by, patient_is_new=patient_is_new)
    inquiry = Inquiry.objects.create(
        patient=patient, branch=branch, case=case, channel=draft.channel, external_id=draft.external_id,
        received_at=received_at, response_due_at=response_due(branch, received_at),
        specialty=found["specialty"], service=found["service"], created_by=created_by, **_given(draft),
    )
    _message_from(inquiry, draft, received_at)
    # Robots plan the escalation (ESCALATE_JOB); they get the inquiry just written rather than read it again.
    event_emit(events.INQUIRY_RECEIVED, inquiry_id=inquiry.pk, inquiry=inquiry)
    return inquiry


def _record_consents(draft: InquiryDraft, patient, *, new_patient: bool, number_verified: bool) -> None:
    """The consents the inquiry carries. Claimed for a number that already belongs to a patient, they wait for
    the number to confirm them: anyone can type anyone's phone into a form. Marketing from an unverified
    number always waits (double opt-in)."""
    evidence = {"source": draft.channel, "text_version": draft.consent_text_version, "ip_address": draft.ip_address,
                "page_url": draft.page_url}
    if new_patient:
        confirmed = {Consent.Purpose.PROCESSING: True, Consent.Purpose.SERVICE: True}
        if draft.marketing_consent:
            confirmed[Consent.Purpose.MARKETING] = number_verified
        consents_record_new(patient=patient, confirmed_by_purpose=confirmed, **evidence)
        return
    for purpose in (Consent.Purpose.PROCESSING, Consent.Purpose.SERVICE):
        consent_record(patient=patient, purpose=purpose, confirmed=new_patient or number_verified, **evidence)
    if draft.marketing_consent:
        consent_record(patient=patient, purpose=Consent.Purpose.MARKETING, confirmed=number_verified, **evidence)


def response_due(branch: Branch, received_at: datetime) -> datetime | None:
    target = timedelta(minutes=settings.CLINICFLOW_RESPONSE_TARGET_MINUTES)
    calendar = branch_calendar_cached(branch, received_at.date() - timedelta(days=1))
    return calendar.add_working_seconds(received_at, target.total_seconds())


def inquiry_take(*, inquiry: Inquiry, by) -> Inquiry:
    """A receptionist picks the inquiry up, so colleagues see it is being handled."""
    if inquiry.status == Inquiry.Status.NEW:
        now = timezone.now()
        Inquiry.objects.filter(pk=inquiry.pk, status=Inquiry.Status.NEW).update(
            status=Inquiry.Status.TAKEN, taken_by=by, taken_at=now, changed_at=now)
        inquiry.refresh_from_db()
    return inquiry


def inquiry_take_next(*, by) -> Inquiry | None:
    """Take the most urgent inquiry nobody has taken yet at the branches `by` works for (None: there is none).

    Two receptionists pressing "Next" at once get two different inquiries: the take is an UPDATE on the
    status just read, and whoever loses it tries the next one.
    """
    candidates = inquiries_at_work(by).filter(status=Inquiry.Status.NEW).most_urgent_first()
    for pk in candidates.values_list("pk", flat=True)[:NEXT_TRIES]:
        now = timezone.now()
        if Inquiry.objects.filter(pk=pk, status=Inquiry.Status.NEW).update(
                status=Inquiry.Status.TAKEN, taken_by=by, taken_at=now, changed_at=now):
            return Inquiry.objects.get(pk=pk)
    return None


def inquiry_respond(*, inquiry: Inquiry, by, text: str) -> Message:
    """Record the answer to the patient (a call made, a message sent): the first one stops the clock.

    Only a waiting inquiry gets a first response: a message on a closed one is kept but changes no KPI.
    The conditional UPDATE makes the earliest of two simultaneous answers the first response.
    """
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write what was said to the patient.")})
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(inquiry=inquiry, direction=Message.Direction.OUTBOUND, body=text,
                                         author=by, created_at=now)
        first = Inquiry.objects.filter(pk=inquiry.pk, first_response_at__isnull=True,
                                       status__in=Inquiry.WAITING)
        if first.update(first_response_at=now, first_response_by=by, status=Inquiry.Status.ANSWERED, changed_at=now):
            Inquiry.objects.filter(pk=inquiry.pk, taken_by__isnull=True).update(taken_by=by, taken_at=now)
            job_cancel(key=inquiry.escalation_key)
    inquiry.refresh_from_db()
    return message


def inquiry_close(*, inquiry: Inquiry, by, reason: str) -> Inquiry:
    """Take an inquiry out of the queue without an answer (spam, a duplicate, a wrong number).

    A reason from the clinic's lost-reason list marked as junk (spam, duplicate) also closes the inquiry's
    case as lost when the case is fresh (it holds nothing but this inquiry): no empty card stays on the kanban.
    """
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the inquiry is closed without an answer.")})
    junk = lost_reason_named(reason, closing_inquiries=True)
    with transaction.atomic():
        closed = Inquiry.objects.filter(pk=inquiry.pk, status__in=Inquiry.WAITING).update(
            status=Inquiry.Status.CLOSED, closed_reason=reason.strip()[:200], changed_at=timezone.now())
        if not closed:
            raise ValidationError({"reason": _("The inquiry is no longer waiting: it was answered or closed.")})
        Message.objects.create(inquiry=inquiry, direction=Message.Direction.NOTE, author=by,
                               body=_("Closed: %(reason)s") % {"reason": reason.strip()})
        job_cancel(key=inquiry.escalation_key)
        if junk and inquiry.case_id:
            case_lose_if_fresh(case=inquiry.case, inquiry_id=inquiry.pk, lost_reason=junk, by=by, note=reason)
    inquiry.refresh_from_db()
    return inquiry


GIVEN_FIELDS = {"name": ("given_name", "full_name"), "email": ("given_email", "email")}


def inquiry_apply_given(*, inquiry: Inquiry, by, fields: list[str]) -> Inquiry:
    """The person confirmed what they typed (name, e-mail): put it on their card (the sender's), with a note."""
    unknown = set(fields) - set(GIVEN_FIELDS)
    if unknown or not fields:
        raise ValidationError({"fields": _("Choose what to apply: name, email.")})
    patient, changed = inquiry.sender, []
    for name in fields:
        given, stored = GIVEN_FIELDS[name]
        value = getattr(inquiry, given)
        if value and value != getattr(patient, stored):
            setattr(patient, stored, value)
            changed.append(stored)
    if changed:
        with transaction.atomic():
            patient.save(update_fields=changed)
            # The queue shows the patient's name: its refresh must see the change.
            Inquiry.objects.filter(pk=inquiry.pk).update(changed_at=timezone.now())
            Message.objects.create(inquiry=inquiry, direction=Message.Direction.NOTE, author=by,
                                   body=_("Card updated with what the patient gave: %(fields)s") % {
                                       "fields": ", ".join(str(patient._meta.get_field(f).verbose_name)
                                                           for f in changed)})
    return inquiry


# How far a message can get; a report never moves it back (providers' reports arrive out of order).
DELIVERY_STEPS = [Message.Delivery.QUEUED, Message.Delivery.SENT, Message.Delivery.DELIVERED, Message.Delivery.READ]


def message_delivery_update(*, channel: str, external_id: str, status: str, error: str = "",
                            at: datetime | None = None) -> bool:
    """A provider reports on a message we sent. Returns whether the message changed.

    "delivered" after "read" changes nothing; "failed" counts only before the patient got it.
    """
    if status == Message.Delivery.FAILED:
        before = DELIVERY_STEPS[:2]
    elif status in DELIVERY_STEPS:
        before = DELIVERY_STEPS[:DELIVERY_STEPS.index(status)]
    else:
        raise ValidationError({"status": _("Unknown delivery status “%(status)s”.") % {"status": status}})
    messages = Message.objects.filter(channel=channel, external_id=external_id, direction=Message.Direction.OUTBOUND)
    return bool(messages.filter(Q(delivery__in=before) | Q(delivery="")).update(
        delivery=status, delivery_error=error[:500], delivery_changed_at=at or timezone.now()))


def inquiry_call_answered(*, inquiry: Inquiry, at: datetime, external_id: str) -> bool:
    """Somebody at the clinic took the patient's call: the same first response as `inquiry_respond`, with no
    staff user the PBX could name. A missed call's call-back task is done too. Returns whether it was new.

    `external_id` names this answer (the provider's call id): a redelivered notification changes nothing.
    """
    if Message.objects.filter(channel=Channel.PHONE, external_id=external_id).exists():
        return False
    Message.objects.create(inquiry=inquiry, direction=Message.Direction.NOTE, kind=Message.Kind.CALL,
                           channel=Channel.PHONE, external_id=external_id, body=_("Call answered"), created_at=at)
    if Inquiry.objects.filter(pk=inquiry.pk, first_response_at__isnull=True, status__in=Inquiry.WAITING).update(
            first_response_at=at, status=Inquiry.Status.ANSWERED, changed_at=timezone.now()):
        job_cancel(key=inquiry.escalation_key)
    Task.objects.open().filter(inquiry=inquiry, kind=Task.Kind.CALLBACK).update(done_at=at)
    inquiry.refresh_from_db()
    return True


def inquiry_call_missed(*, inquiry: Inquiry, at: datetime, external_id: str, after_hours: bool = False) -> bool:
    """Nobody took the patient's call (or it came after hours): a call-back task due within the response
    target in working hours, and the queue row says "missed call". Returns whether it was new."""
    if Message.objects.filter(channel=Channel.PHONE, external_id=external_id).exists():
        return False
    Message.objects.create(inquiry=inquiry, direction=Message.Direction.NOTE, kind=Message.Kind.CALL,
                           channel=Channel.PHONE, external_id=external_id, created_at=at,
                           body=_("Call after hours: call back") if after_hours else _("Missed call: call back"))
    if inquiry.is_waiting and not Task.objects.open().filter(inquiry=inquiry, kind=Task.Kind.CALLBACK).exists():
        # No name in the title: titles travel to lists and notifications; the task links the patient.
        Task.objects.create(kind=Task.Kind.CALLBACK, title=_("Call back: missed call"), branch=inquiry.branch,
                            role=Role.RECEPTIONIST, patient=inquiry.patient, inquiry=inquiry,
                            due_at=response_due(inquiry.branch, at) or at)
    Inquiry.objects.filter(pk=inquiry.pk).update(changed_at=timezone.now())  # the queue's refresh shows the mark
    return True
# --- Identity (issue 6): who wrote, and whom the inquiry is about ---------------------------------------------


def _ask_whom_it_is_about(inquiry: Inquiry, *, sender_is_new: bool) -> None:
    """A sender who acts for others (a mother for her children) may write about any of them or about herself:
    the inquiry stays hers, and the queue asks the desk whom it is about. Never guessed."""
    if not sender_is_new and Representative.objects.filter(representative=inquiry.patient).exists():
        Inquiry.objects.filter(pk=inquiry.pk).update(about_confirmed=False)
        inquiry.about_confirmed = False


def inquiry_set_patient(*, inquiry: Inquiry, patient: Patient, by) -> Inquiry:
    """The desk says whom the inquiry is about: the sender themselves or someone they act for.

    The inquiry moves to that patient's open case at the branch (a new one if need be), the sender's case is
    closed when this inquiry was all it held (nothing real happened in it), and a note says who decided.
    """
    sender = inquiry.sender
    if patient.pk != sender.pk and not Representative.objects.filter(representative=sender, patient=patient).exists():
        raise ValidationError({"patient": _("%(sender)s does not act for %(patient)s: link them on the card first.")
                               % {"sender": sender, "patient": patient}})
    with transaction.atomic():
        # No select_related("case"): PostgreSQL refuses FOR UPDATE across an outer join.
        inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        old_case = inquiry.case
        case = old_case
        if patient.pk != inquiry.patient_id:
            case, _created = case_open_for(patient=patient, branch=inquiry.branch, by=by)
        Inquiry.objects.filter(pk=inquiry.pk).update(
            patient=patient, contact=None if patient.pk == sender.pk else sender, about_confirmed=True, case=case,
            changed_at=timezone.now())
        if old_case and case and old_case.pk != case.pk:
            duplicate = lost_reason_named("Duplicate", closing_inquiries=True)
            case_lose_if_fresh(case=old_case, inquiry_id=inquiry.pk, lost_reason=duplicate, by=by,
                               note=_("The inquiry was about another person."))
        Message.objects.create(inquiry=inquiry, direction=Message.Direction.NOTE, author=by,
                               body=_about_note(sender, patient))
    inquiry.refresh_from_db()
    return inquiry


def _about_note(sender: Patient, patient: Patient) -> str:
    # Card numbers, not names: a name in a note would outlive a correction of the card.
    if sender.pk == patient.pk:
        return _("About the sender themselves.")
    return _("About patient #%(patient)s, for whom the sender acts.") % {"patient": patient.pk}
