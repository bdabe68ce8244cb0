from django.conf import settings
from django.contrib import messages
from django.shortcuts import render
from django.utils.translation import gettext as _

from clinicflow.accounts.decorators import staff_required
from clinicflow.automation.models import Job
from clinicflow.funnel.models import CaseTransition
from clinicflow.inbox.models import Message

from .access import patient_for_user, patients_visible_to


def search_patients(user, query: str):
    return patients_visible_to(user).search(query).prefetch_related("identities")[:50]


@staff_required
def search(request):
    query, limit = request.GET.get("q", ""), settings.CLINICFLOW_SEARCH_MAX_LENGTH
    if len(query) > limit:
        # A pasted page of text is nobody's name; unbounded, it grew SQL past SQLite's limits (a 500).
        query = query[:limit]
        messages.warning(request, _("The search was cut to its first %(limit)d characters.") % {"limit": limit})
    return render(request, "patients/search.html", {"patients": search_patients(request.user, query),
                                                    "query": query, "query_max_length": limit,
                                                    "section": "patients"})


@staff_required
def card(request, patient_id):
    patient = patient_for_user(request.user, patient_id)
    return render(request, "patients/card.html", {
        "patient": patient, "section": "patients",
        "identities": patient.identities.all(),
        "consents": patient.consents.all(),
        "cases": patient.cases.select_related("branch").prefetch_related("transitions__by"),
        "appointments": patient.appointments.select_related("doctor", "service", "branch").order_by("-starts_at"),
        "tasks": patient.tasks.select_related("assignee").order_by("done_at", "due_at"),
        "jobs": patient.jobs.filter(state__in=[Job.State.PENDING, Job.State.RUNNING, Job.State.FAILED]),
        "timeline": timeline(patient),
    })


def timeline(patient) -> list[dict]:
    """Everything that happened with a patient, newest first: inquiries, messages, stage moves, visits."""
    events = []
    for inquiry in patient.inquiries.all():
        events.append({"at": inquiry.received_at, "kind": "inquiry",
                       "text": _("Inquiry via %(channel)s") % {"channel": inquiry.get_channel_display()}})
    for message in Message.objects.filter(inquiry__patient=patient).select_related("author"):
        events.append({"at": message.created_at, "kind": message.direction, "text": message.body,
                       "who": message.author})
    for move in CaseTransition.objects.filter(case__patient=patient).select_related("by"):
        events.append({"at": move.at, "kind": "stage", "who": move.by, "text": _("Stage: %(stage)s%(reason)s") % {
            "stage": move.get_to_stage_display(), "reason": f" — {move.reason}" if move.reason else ""}})
    for appointment in patient.appointments.select_related("doctor", "branch"):
        events.append({"at": appointment.created_at, "kind": "appointment", "text": _(
            "Appointment with %(doctor)s on %(when)s: %(status)s") % {
            "doctor": appointment.doctor, "when": appointment.local_starts_at.strftime("%d.%m.%Y %H:%M"),
            "status": appointment.get_status_display()}})
    return sorted(events, key=lambda e: e["at"], reverse=True)
