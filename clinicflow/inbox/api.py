import hashlib
from datetime import datetime
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from clinicflow.clinic.models import Branch, ClinicSettings, Service
from clinicflow.core import limits
from clinicflow.core.api_types import DbId, Flag, Limit, MustBeTrue, PageUrl, Text, one_of
from clinicflow.core.ratelimit import client_ip
from clinicflow.patients.models import Channel
from clinicflow.scheduling.slots import bookable_services

from .access import inquiries_visible_to, inquiry_for_user
from .models import Inquiry
from .services import (
    InquiryDraft,
    Received,
    consent_text,
    inquiry_receive,
    inquiry_receive_public,
    inquiry_respond,
    inquiry_take,
)

router = Router(tags=["inquiries"])
public_router = Router(tags=["public"], auth=None)

# The service names fields as the staff form does; API errors name the fields the client sent.
API_FIELD_NAMES = {"branch": "branch_id", "specialty": "specialty_id", "service": "service_id"}


def _consent_is_required(schema: dict) -> None:
    """Consent has to be true: the schema says so, while the service still reports a missing one next to the
    other fields' errors (so the model keeps its default)."""
    schema["properties"]["consent"].pop("default", None)
    schema["required"] = [*schema.get("required", []), "consent"]


class InquiryIn(Schema):
    """An inquiry as a website form or widget sends it. Every field is checked; all errors come back at once."""

    model_config = {"json_schema_extra": _consent_is_required}

    name: Text = Field("", max_length=limits.NAME, description="The patient's name as typed")
    phone: Text = Field("", max_length=limits.PHONE, description="Any common spelling; stored as E.164")
    email: Text = Field("", max_length=limits.EMAIL)
    consent: MustBeTrue = Field(False, description="Consent to the processing of personal data (required)")
    marketing_consent: Flag = Field(False, description="Consent to marketing messages; for a number not yet "
                                    "confirmed it waits until the number confirms it (double opt-in)")
    consent_text_version: Text = Field("", max_length=32, description="The version of the consent text shown")
    branch_id: DbId | None = None
    specialty_id: DbId | None = None
    service_id: DbId | None = None
    preferred_time: Text = Field("", max_length=limits.PREFERRED_TIME)
    comment: Text = Field("", max_length=limits.COMMENT)
    utm_source: Text = Field("", max_length=limits.UTM)
    utm_medium: Text = Field("", max_length=limits.UTM)
    utm_campaign: Text = Field("", max_length=limits.UTM)
    utm_term: Text = Field("", max_length=limits.UTM)
    utm_content: Text = Field("", max_length=limits.UTM)
    page_url: PageUrl = ""
    referrer: PageUrl = ""
    request_id: Text = Field("", max_length=120,
                            description="Your id for this submission: sending it again creates nothing twice")

    def draft(self, channel: str, ip: str | None = None) -> InquiryDraft:
        return InquiryDraft(
            channel=channel, phone=self.phone, full_name=self.name, email=self.email, text=self.comment,
            consent=self.consent, marketing_consent=self.marketing_consent,
            consent_text_version=self.consent_text_version, branch_id=self.branch_id, specialty_id=self.specialty_id,
            service_id=self.service_id, preferred_time=self.preferred_time, page_url=self.page_url,
            referrer=self.referrer, external_id=self.delivery_key(), ip_address=ip or None,
            utm={name: getattr(self, name) for name in Inquiry.UTM_FIELDS if getattr(self, name)})

    def delivery_key(self) -> str:
        """Clients choose request ids, so two visitors may choose the same one: scope it by the phone.

        The last ten digits are the same for every spelling of a Russian number ("8 916…", "+7 916…").
        """
        if not self.request_id:
            return ""
        digits = "".join(ch for ch in self.phone if ch.isdigit())[-10:]
        return "rid:" + hashlib.sha256(f"{self.request_id}|{digits}".encode()).hexdigest()[:40]


class StaffInquiryIn(InquiryIn):
    channel: Channel = Field(Channel.PHONE, description="How the patient got in touch")


class InquiryAccepted(Schema):
    id: int
    status: str
    duplicate: bool


class InquiryOut(Schema):
    id: int
    patient_id: int
    contact_id: int | None = Field(description="Who wrote, when not the patient (a parent for a child)")
    about_confirmed: bool = Field(description="False while the sender acts for others and nobody said for whom")
    case_id: int | None
    branch_id: int
    channel: str
    status: str
    received_at: datetime
    response_due_at: datetime | None
    taken_by_id: int | None
    first_response_at: datetime | None
    first_response_by_id: int | None
    specialty_id: int | None
    service_id: int | None
    preferred_time: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    page_url: str
    referrer: str


class ResponseIn(Schema):
    text: Text = Field(max_length=limits.ANSWER)


class Problem(Schema):
    detail: str


def _receive(draft: InquiryDraft, created_by=None, *, client: str | None = None) -> tuple[Inquiry, Received] | None:
    """Staff's inquiry, or (with `client`) the public form's, counted against the client's rate limit (None: over)."""
    try:
        if client is not None:
            return inquiry_receive_public(draft=draft, client=client)
        return inquiry_receive(draft=draft, created_by=created_by)
    except ValidationError as exc:
        raise ValidationError({API_FIELD_NAMES.get(name, name): messages
                               for name, messages in exc.message_dict.items()}) from None


class WidgetBranch(Schema):
    id: int
    name: str
    address: str
    service_ids: list[int] = Field(description="The services bookable at this branch (empty unless slots_offered)")


class WidgetService(Schema):
    id: int
    name: str
    duration_minutes: int


class WidgetConfig(Schema):
    language: str
    consent_text: str
    consent_text_version: str
    privacy_policy_url: str
    slots_offered: bool = Field(description="The widget may offer free times: GET /public/slots, POST /public/bookings")
    branches: list[WidgetBranch]
    services: list[WidgetService] = Field(description="Bookable services of the branches (empty unless slots_offered)")
    labels: dict[str, str]


def widget_labels() -> dict[str, str]:
    """Everything the widget writes, in the active language (the widget carries no text of its own)."""
    return {
        "title": _("Leave a request"), "name": _("Your name"), "phone": _("Phone"), "comment": _("Comment"),
        "branch": _("Branch"), "marketing": _("Send me news and offers of the clinic"),
        "send": _("Send"), "sending": _("Sending…"),
        "thanks": _("Thank you! We will call you back soon."),
        "phone_required": _("Enter a phone number."),
        "consent_required": _("Please agree to the processing of personal data."),
        "failed": _("Could not send the request. Please call us or try again."),
        "privacy": _("Privacy policy"),
        # The booking step, shown only while the clinic offers free slots.
        "choose_time": _("Choose a time"), "slots_title": _("Book a time"), "service": _("Service"),
        "choose_service": _("Choose a service"), "loading": _("Loading free times…"),
        "no_slots": _("No free times on these days."), "earlier": _("Earlier dates"), "later": _("Later dates"),
        "back": _("Back"), "book": _("Book this time"), "booking": _("Booking…"),
        "pick_time": _("Choose a time first."),
        "chosen": _("Chosen: {time}, {doctor}."),
        "taken": _("This time was just taken. Please choose another one:"),
        "booked": _("Your visit: {time}, {doctor}."),
        "requested": _("The time you asked for: {time}, {doctor}."),
        "zone_note": _("Times are given in the clinic's time zone ({zone})."),
    }


def widget_offer(*, branches: list[Branch], slots_offered: bool) -> tuple[list[dict], list[Service]]:
    """The branches with the ids of their bookable services, and those services (none while slots are off)."""
    if not slots_offered:
        return [{"id": b.pk, "name": b.name, "address": b.address, "service_ids": []} for b in branches], []
    offered = {b.pk: list(bookable_services(branch=b)) for b in branches}
    services = {s.pk: s for found in offered.values() for s in found}
    return ([{"id": b.pk, "name": b.name, "address": b.address, "service_ids": [s.pk for s in offered[b.pk]]}
             for b in branches], sorted(services.values(), key=lambda s: s.name))


@public_router.get("/widget", response=WidgetConfig, summary="The website widget's texts and branches")
def widget_config(request, lang: Literal["", "ru", "en"] = ""):
    """What the embedded widget shows, in Russian or English (default: the clinic's language)."""
    clinic = ClinicSettings.load()
    language = lang or clinic.default_language
    branches, services = widget_offer(branches=list(Branch.objects.order_by("name")),
                                      slots_offered=clinic.widget_offers_slots)
    with translation.override(language):
        return {"language": language, "consent_text": consent_text(),
                "consent_text_version": settings.CLINICFLOW_CONSENT_TEXT_VERSION,
                "privacy_policy_url": settings.CLINICFLOW_PRIVACY_POLICY_URL,
                "slots_offered": clinic.widget_offers_slots, "branches": branches, "services": services,
                "labels": widget_labels()}


@public_router.post("/inquiries", response={201: InquiryAccepted, 200: InquiryAccepted, 429: Problem},
                    summary="Website form / booking widget: leave an inquiry")
def public_inquiry(request, payload: InquiryIn):
    ip = client_ip(request)
    result = _receive(payload.draft(Channel.WEB, ip), client=ip)
    if result is None:
        return Status(429, {"detail": _("Too many inquiries from this address; try again in a minute.")})
    inquiry, received = result
    # A form from someone whose inquiry still waits joins it: accepted (201), one row in the queue.
    duplicate = received == Received.DUPLICATE
    return Status(200 if duplicate else 201, {"id": inquiry.pk, "status": inquiry.status, "duplicate": duplicate})


@router.get("", response=list[InquiryOut], summary="Inquiries, oldest first; by default the live queue")
def list_inquiries(request, status: one_of(Inquiry.Status, "waiting") = "waiting", limit: Limit = 100):
    inquiries = inquiries_visible_to(request.auth)
    inquiries = inquiries.waiting() if status == "waiting" else inquiries.filter(status=status)
    return list(inquiries.order_by("received_at", "id")[:limit])


@router.post("", response={201: InquiryOut, 200: InquiryOut}, summary="Record an inquiry (e.g. a phone call)")
def create_inquiry(request, payload: StaffInquiryIn):
    inquiry, received = _receive(payload.draft(payload.channel), created_by=request.auth)
    # A repeated request id may name another branch's inquiry: show it only to those who may see it.
    return Status(200 if received == Received.DUPLICATE else 201, inquiry_for_user(request.auth, inquiry.pk))


@router.get("/{inquiry_id}", response=InquiryOut)
def get_inquiry(request, inquiry_id: DbId):
    return inquiry_for_user(request.auth, inquiry_id)


@router.post("/{inquiry_id}/take", response=InquiryOut)
def take_inquiry(request, inquiry_id: DbId):
    return inquiry_take(inquiry=inquiry_for_user(request.auth, inquiry_id, write=True), by=request.auth)


@router.post("/{inquiry_id}/responses", response=InquiryOut, summary="Record the answer given to the patient")
def respond_inquiry(request, inquiry_id: DbId, payload: ResponseIn):
    inquiry = inquiry_for_user(request.auth, inquiry_id, write=True)
    inquiry_respond(inquiry=inquiry, by=request.auth, text=payload.text)
    inquiry.refresh_from_db()
    return inquiry
