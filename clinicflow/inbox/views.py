from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from clinicflow import gates
from clinicflow.core import limits
from clinicflow.core.ratelimit import client_ip
from clinicflow.funnel.models import IntakeQuestion
from clinicflow.patients.models import Channel, Patient, Representative
from clinicflow.patients.services import patient_add_dependant

from .access import inquiry_for_user
from .forms import PhoneInquiryForm, WebsiteInquiryForm
from .models import Inquiry
from .queue import queue_for, queue_unchanged
from .services import (
    InquiryDraft,
    consent_text,
    inquiry_apply_given,
    inquiry_close,
    inquiry_receive,
    inquiry_receive_public,
    inquiry_respond,
    inquiry_set_patient,
    inquiry_take,
    inquiry_take_next,
)

QUEUE_VERSION_HEADER = "X-Queue-Version"
NOT_SENDABLE = (Channel.PHONE, Channel.WEB, Channel.WALK_IN)


def _too_long(text: str, limit: int) -> ValidationError | None:
    """The API refuses text over the limit (core.limits); the page says the same rather than cut it silently."""
    if len(text) <= limit:
        return None
    return ValidationError(ngettext("At most %(limit)d character, please (this is %(length)d).",
                                    "At most %(limit)d characters, please (this is %(length)d).", limit)
                           % {"limit": limit, "length": len(text)})


@gates.patient_reader_required
def queue(request):
    known = request.headers.get(QUEUE_VERSION_HEADER, "")
    if request.htmx and known and queue_unchanged(request.user, known):
        # Nothing to redraw: htmx leaves the page as it is on a 204, and the timers keep ticking there.
        return HttpResponse(status=204)
    queue = queue_for(request.user)
    context = {"queue": queue, "nav_unread": queue.unread, "section": "queue"}
    if request.htmx:
        return render(request, "inbox/queue.html#queue", context)
    gates.list_opened(request.user, "queue")
    return render(request, "inbox/queue.html", context)


@gates.patient_reader_required
def inquiry_new(request):
    # Only the caller's own branches: an inquiry filed elsewhere would vanish from the receptionist's sight.
    branches = gates.branches_at_work(request.user)
    form = PhoneInquiryForm(request.POST or None, initial={"branch": request.GET.get("branch") or branches.first()})
    form.fields["branch"].queryset = branches
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draft = InquiryDraft(
            channel=Channel.PHONE, phone=data["phone"], full_name=data["full_name"], text=data["text"],
            consent=data["consent"], branch_id=data["branch"].pk, preferred_time=data["preferred_time"],
            specialty_id=data["specialty"] and data["specialty"].pk, service_id=data["service"] and data["service"].pk)
        try:
            inquiry, _created = inquiry_receive(draft=draft, created_by=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            inquiry_take(inquiry=inquiry, by=request.user)
            return redirect("inbox:inquiry", inquiry.pk)
    return render(request, "inbox/inquiry_new.html", {"form": form, "section": "queue"})


@gates.patient_reader_required
def inquiry_detail(request, inquiry_id):
    inquiry = inquiry_for_user(request.user, inquiry_id)
    patient = inquiry.patient
    questions = IntakeQuestion.objects.filter(active=True)
    if inquiry.case and not inquiry.case.intake:
        inquiry.case.intake = intake_from_inquiry(inquiry, questions)  # shown, not saved: the answers are staff's
    return render(request, "inbox/inquiry.html", {
        "inquiry": inquiry, "patient": patient, "case": inquiry.case, "section": "queue",
        "given_differs": given_differs(inquiry),
        "acts_for": Representative.objects.filter(representative=inquiry.sender).select_related("patient"),
        "relations": Representative.Relation.choices,
        "conversation": inquiry.messages.select_related("author"),
        # Ways out the answer can be sent by (the patient's reachable ones are chosen when left on "auto").
        "send_channels": [(value, label) for value, label in Channel.choices if value not in NOT_SENDABLE],
        "questions": questions,
    })


@require_POST
@gates.patient_reader_required
def inquiry_take_view(request, inquiry_id):
    inquiry_take(inquiry=inquiry_for_user(request.user, inquiry_id, write=True), by=request.user)
    return redirect("inbox:inquiry", inquiry_id)


@require_POST
@gates.patient_reader_required
def inquiry_respond_view(request, inquiry_id):
    inquiry = inquiry_for_user(request.user, inquiry_id, write=True)
    text = request.POST.get("text", "")
    try:
        if error := _too_long(text, limits.ANSWER):
            raise error
        inquiry_respond(inquiry=inquiry, by=request.user, text=text)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("inbox:inquiry", inquiry_id)


@require_POST
@gates.patient_reader_required
def inquiry_close_view(request, inquiry_id):
    inquiry = inquiry_for_user(request.user, inquiry_id, write=True)
    reason = request.POST.get("reason", "")
    try:
        if error := _too_long(reason, limits.REASON):
            raise error
        inquiry_close(inquiry=inquiry, by=request.user, reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("inbox:inquiry", inquiry_id)
    messages.success(request, _("Inquiry closed."))
    return redirect("inbox:queue")


@require_POST
@gates.patient_reader_required
def inquiry_apply_given_view(request, inquiry_id):
    inquiry = inquiry_for_user(request.user, inquiry_id, write=True)
    try:
        inquiry_apply_given(inquiry=inquiry, by=request.user, fields=request.POST.getlist("field"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The patient's card was updated."))
    return redirect("inbox:inquiry", inquiry_id)


def given_differs(inquiry) -> dict:
    """What the sender typed that their card does not say; compared with the sender's card, since the person
    who wrote typed it. A name differs in more than case or spaces."""
    sender, differs = inquiry.sender, {}
    if inquiry.given_name and (inquiry.given_name_differs or not sender.full_name):
        differs["name"] = inquiry.given_name
    if inquiry.given_email and inquiry.given_email != sender.email:
        differs["email"] = inquiry.given_email
    return differs


def intake_from_inquiry(inquiry, questions) -> dict:
    """What the web form already said, as the intake script's first answers: the specialty (the service's own
    when only a service was chosen)."""
    specialty = inquiry.specialty or (inquiry.service and inquiry.service.specialty)
    if specialty is None:
        return {}
    return {q.key: str(specialty.pk) for q in questions if q.kind == IntakeQuestion.Kind.SPECIALTY}


@require_POST
@gates.patient_reader_required
def inquiry_next_view(request):
    """After an answer: take the most urgent inquiry nobody has taken yet, and open it."""
    inquiry = inquiry_take_next(by=request.user)
    if inquiry is None:
        messages.info(request, _("Nobody else is waiting for an answer."))
        return redirect("inbox:queue")
    inquiry_for_user(request.user, inquiry.pk, write=True)  # taking it changed it: the access log says who
    return redirect("inbox:inquiry", inquiry.pk)


def widget_form(request):
    """The website widget without JavaScript: the same inquiry, as a plain form on the CRM's own page.

    The clinic's site links here (`<noscript>`), passing its utm_* tags (and `branch`) in the address.
    """
    utm = {name: request.GET.get(name, "")[:200] for name in Inquiry.UTM_FIELDS if request.GET.get(name)}
    form = WebsiteInquiryForm(request.POST or None, initial={"branch": request.GET.get("branch")})
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:
            return render(request, "inbox/widget_form.html", {"sent": True})  # a bot: thanked, nothing saved
        ip = client_ip(request)
        data = form.cleaned_data
        # The page of the clinic's site that linked here is where the visitor was.
        landing = request.META.get("HTTP_REFERER", "")[:1000]
        draft = InquiryDraft(
            channel=Channel.WEB, phone=data["phone"], full_name=data["full_name"], text=data["text"],
            consent=True, marketing_consent=data["marketing_consent"],
            consent_text_version=settings.CLINICFLOW_CONSENT_TEXT_VERSION,
            branch_id=data["branch"] and data["branch"].pk, utm=utm, ip_address=ip or None,
            page_url=landing if landing.startswith(("http://", "https://")) else "")
        try:
            received = inquiry_receive_public(draft=draft, client=ip)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if received is not None:
                return render(request, "inbox/widget_form.html", {"sent": True})
            form.add_error(None, _("Too many inquiries from this address; try again in a minute."))
    return render(request, "inbox/widget_form.html", {
        "form": form, "consent_text": consent_text(), "privacy_policy_url": settings.CLINICFLOW_PRIVACY_POLICY_URL})


@require_POST
@gates.patient_reader_required
def inquiry_set_patient_view(request, inquiry_id):
    """Whom the inquiry is about: the sender, or one of the people they act for (the queue's question)."""
    inquiry = inquiry_for_user(request.user, inquiry_id, write=True)
    chosen = request.POST.get("patient", "")
    patient = Patient.objects.filter(pk=chosen).first() if chosen.isdigit() else None
    try:
        if patient is None:
            raise ValidationError(_("Choose whom the inquiry is about."))
        inquiry_set_patient(inquiry=inquiry, patient=patient, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        inquiry_for_user(request.user, inquiry_id, write=True)  # it is now about another person: logged for them
    return redirect("inbox:inquiry", inquiry_id)


@require_POST
@gates.patient_reader_required
def inquiry_add_dependant_view(request, inquiry_id):
    """The name typed is someone the sender acts for (a child): add them to the sender's card, and let the
    inquiry be about them. Changes the sender's card, so only their home branch may."""
    inquiry = inquiry_for_user(request.user, inquiry_id, write=True)
    sender = gates.patient_for_user(request.user, inquiry.sender.pk, write=True)
    try:
        dependant = patient_add_dependant(representative=sender, full_name=request.POST.get("full_name", ""),
                                          relation=request.POST.get("relation", ""), by=request.user)
        inquiry_set_patient(inquiry=inquiry, patient=dependant, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        inquiry_for_user(request.user, inquiry_id, write=True)  # logged for the new patient too
        messages.success(request, _("Added to the sender's card; the inquiry is about them now."))
    return redirect("inbox:inquiry", inquiry_id)
