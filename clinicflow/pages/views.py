"""Pages that bring many apps together: the patient card and patient search.

Every section of the card lists through its app's gate, so in a clinic whose branches keep their own
patients a card opened at one branch never shows another branch's inquiries, visits, cases or tasks.
"""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow import gates
from clinicflow.accounts.decorators import staff_required
from clinicflow.accounts.models import Role, user_roles
from clinicflow.automation.models import Job
from clinicflow.compliance.models import Consent
from clinicflow.compliance.services import consent_confirm, consent_record, consent_withdraw
from clinicflow.funnel.access import cases_visible_to
from clinicflow.funnel.models import CaseTransition
from clinicflow.inbox.access import inquiries_visible_to
from clinicflow.inbox.models import Message
from clinicflow.scheduling.access import appointments_visible_to
from clinicflow.tasks.access import tasks_visible_to

SEARCH_RESULTS = 50


def search_patients(user, query: str) -> list:
    """Patients matching `query` among those the user may read; each hit is logged as a read."""
    query = query[:settings.CLINICFLOW_SEARCH_MAX_LENGTH]
    found = gates.patients_visible_to(user).search(query).prefetch_related("identities")
    return gates.patients_found(user, list(found[:SEARCH_RESULTS]))


@staff_required
def home(request):
    """Each role starts where its work is."""
    roles = user_roles(request.user)
    if gates.reads_patients(request.user):
        return redirect("inbox:queue")
    if Role.COMPLIANCE_OFFICER in roles:
        return redirect("compliance:access_log")
    return redirect("reports:inquiries")


@gates.patient_reader_required
def search(request):
    query, limit = request.GET.get("q", ""), settings.CLINICFLOW_SEARCH_MAX_LENGTH
    if len(query) > limit:
        # A pasted page of text is nobody's name; unbounded, it grew SQL past SQLite's limits (a 500).
        query = query[:limit]
        messages.warning(request, _("The search was cut to its first %(limit)d characters.") % {"limit": limit})
    return render(request, "pages/search.html", {"patients": search_patients(request.user, query), "query": query,
                                                 "query_max_length": limit, "section": "patients"})


@gates.patient_reader_required
def card(request, patient_id):
    patient = gates.patient_for_user(request.user, patient_id)
    user = request.user
    inquiries = inquiries_visible_to(user).filter(patient=patient)
    cases = cases_visible_to(user).filter(patient=patient)
    appointments = appointments_visible_to(user).filter(patient=patient).select_related("doctor", "service",
                                                                                         "branch")
    return render(request, "pages/card.html", {
        "patient": patient, "section": "patients",
        "identities": patient.identities.all(),
        "consents": patient.consents.all(),
        "purposes": Consent.Purpose.choices,
        "cases": cases.select_related("branch").prefetch_related("transitions__by"),
        "appointments": appointments.order_by("-starts_at"),
        "tasks": tasks_visible_to(user).filter(patient=patient).select_related("assignee").order_by("done_at",
                                                                                                   "due_at"),
        "jobs": gates.visible(Job.objects.filter(patient_id=patient.pk), user, branch_field="branch_id")
        .filter(state__in=[Job.State.PENDING, Job.State.RUNNING, Job.State.FAILED]),
        "timeline": timeline(inquiries, cases, appointments),
    })


def timeline(inquiries, cases, appointments) -> list[dict]:
    """What happened with a patient at the branches the reader may see, newest first."""
    events = []
    for inquiry in inquiries:
        events.append({"at": inquiry.received_at, "kind": "inquiry",
                       "text": _("Inquiry via %(channel)s") % {"channel": inquiry.get_channel_display()}})
    for message in Message.objects.filter(inquiry__in=inquiries).select_related("author"):
        events.append({"at": message.created_at, "kind": message.direction, "text": message.body,
                       "who": message.author})
    for move in CaseTransition.objects.filter(case__in=cases).select_related("by"):
        events.append({"at": move.at, "kind": "stage", "who": move.by, "text": _("Stage: %(stage)s%(reason)s") % {
            "stage": move.get_to_stage_display(), "reason": f" — {move.reason}" if move.reason else ""}})
    for appointment in appointments:
        events.append({"at": appointment.created_at, "kind": "appointment", "text": _(
            "Appointment with %(doctor)s on %(when)s: %(status)s") % {
            "doctor": appointment.doctor, "when": appointment.local_starts_at.strftime("%d.%m.%Y %H:%M"),
            "status": appointment.get_status_display()}})
    return sorted(events, key=lambda e: e["at"], reverse=True)


@require_POST
@gates.patient_reader_required
def consent_change(request, patient_id):
    """The front desk records what the patient said on the phone: a consent given, confirmed or withdrawn."""
    patient = gates.patient_for_user(request.user, patient_id, write=True)
    action, purpose = request.POST.get("action"), request.POST.get("purpose")
    if purpose not in Consent.Purpose.values or action not in ("give", "confirm", "withdraw"):
        messages.error(request, _("Choose a consent purpose and what happened to it."))
    elif action == "withdraw":
        consent_withdraw(patient=patient, purpose=purpose, source="staff")
        messages.success(request, _("Consent withdrawn: nothing will be sent for this purpose."))
    elif action == "confirm":
        for consent in patient.consents.filter(purpose=purpose, confirmed_at__isnull=True, withdrawn_at__isnull=True):
            consent_confirm(consent=consent, via="staff")
        messages.success(request, _("Consent confirmed."))
    else:
        consent_record(patient=patient, purpose=purpose, source="staff")
        messages.success(request, _("Consent recorded."))
    return redirect("patients:card", patient.pk)
