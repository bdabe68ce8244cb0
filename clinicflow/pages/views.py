"""Pages that bring many apps together: the patient card and patient search.

Every section of the card lists through its app's gate, so in a clinic whose branches keep their own
patients a card opened at one branch never shows another branch's inquiries, visits, cases or tasks.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import HttpResponse
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
from clinicflow.patients.models import Channel
from clinicflow.patients.services import patient_resolve
from clinicflow.scheduling.access import appointments_visible_to
from clinicflow.tasks.access import tasks_visible_to

from .forms import PatientCreateForm

SEARCH_RESULTS = 50
SEARCH_HITS = 8  # under the search box as one types: enough to choose from, few enough to read
OTHER_HITS = 5  # inquiries and cases under the patients


def search_patients(user, query: str, limit: int = SEARCH_RESULTS) -> list:
    """Patients matching `query` among those the user may read; each hit is logged as a read.

    A name of several words matches in any order ("Ivanova Anna" and "Anna Ivanova"): people say either.
    """
    query = query[:settings.CLINICFLOW_SEARCH_MAX_LENGTH]
    patients, words = gates.patients_visible_to(user), query.lower().split()
    if len(words) > 1 and not any(ch.isdigit() for ch in query):
        found = patients.annotate(name_lower=Lower("full_name")).filter(
            *[Q(name_lower__contains=word) for word in words[:SEARCH_WORDS]]).order_by("full_name", "pk")
    else:
        found = patients.search(query)
    return gates.patients_found(user, list(found.prefetch_related("identities")[:limit]))


SEARCH_WORDS = 6  # a name has a few words; more is pasted text, and each word is one more LIKE


def search_records(user, query: str, patients: list) -> tuple[list, list]:
    """Inquiries and cases by their number ("123", "#123") or of the patients found, the newest first."""
    number = query.strip().lstrip("#№")
    by_id = Q(pk=int(number)) if number.isdigit() and len(number) <= 9 else Q(pk__in=[])
    of_patients = Q(patient__in=[p.pk for p in patients])
    inquiries = list(inquiries_visible_to(user).filter(by_id | of_patients).select_related("patient", "branch")
                     .order_by("-received_at")[:OTHER_HITS])
    cases = list(cases_visible_to(user).filter(by_id | of_patients).select_related("patient", "branch")
                 .order_by("-created_at")[:OTHER_HITS])
    # A record found by its number shows its patient's name: that is a read of the patient too.
    shown = {p.pk for p in patients}
    gates.patients_found(user, list({r.patient.pk: r.patient for r in inquiries + cases
                                     if r.patient.pk not in shown}.values()))
    return inquiries, cases


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
    """The search page, and the hits under the menu's search box as one types (htmx)."""
    query, limit = request.GET.get("q", ""), settings.CLINICFLOW_SEARCH_MAX_LENGTH
    if len(query) > limit:
        # A pasted page of text is nobody's name; unbounded, it grew SQL past SQLite's limits (a 500).
        query = query[:limit]
        if not request.htmx:
            messages.warning(request, _("The search was cut to its first %(limit)d characters.") % {"limit": limit})
    if request.htmx:
        return search_hits(request, query.strip())
    patients = search_patients(request.user, query)
    inquiries, cases = search_records(request.user, query, patients) if query.strip() else ([], [])
    if request.GET.get("open") and query.strip() and single_patient(patients, inquiries, cases):
        return redirect("patients:card", patients[0].pk)  # Enter on one hit in the menu's box: open the card
    return render(request, "pages/search.html", {
        "patients": patients, "inquiries": inquiries, "cases": cases, "query": query,
        "query_max_length": limit, "section": "patients", "create_query": create_query(query)})


def search_hits(request, query: str):
    if not query:
        return HttpResponse("")  # the box was emptied: no list under it
    patients = search_patients(request.user, query, limit=SEARCH_HITS)
    inquiries, cases = search_records(request.user, query, patients)
    return render(request, "pages/search.html#hits", {
        "patients": patients, "inquiries": inquiries, "cases": cases, "query": query,
        "more": len(patients) == SEARCH_HITS, "create_query": create_query(query),
        "single": single_patient(patients, inquiries, cases)})


def single_patient(patients: list, inquiries: list, cases: list):
    """One person found (with their own inquiries and cases, if any): Enter opens their card."""
    if len(patients) == 1 and all(r.patient_id == patients[0].pk for r in inquiries + cases):
        return patients[0]
    return None


def create_query(query: str) -> str:
    """What the "create a patient" form starts from: a phone typed stays a phone, anything else a name."""
    query = query.strip()
    key = "phone" if query and sum(ch.isdigit() for ch in query) >= len(query.replace(" ", "")) // 2 else "full_name"
    return urlencode({key: query}) if query else ""


@gates.patient_reader_required
def patient_create(request):
    """A person the search did not find: a phone (one person, one patient), a name, and their consent."""
    branches = gates.branches_at_work(request.user)
    form = PatientCreateForm(request.POST or None, branches=branches,
                             initial={"branch": branches.first(), **request.GET.dict()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        known = gates.patients_visible_to(request.user).filter(
            identities__channel=Channel.PHONE, identities__address=data["phone"]).first()
        # Staff rules: someone vouching for the person fills the card's blanks, but only of a card they may see.
        patient, created = patient_resolve(branch=data["branch"], phone=data["phone"], full_name=data["full_name"],
                                           fill_blanks=known is not None)
        if created or known:
            for purpose in (Consent.Purpose.PROCESSING, Consent.Purpose.SERVICE):
                consent_record(patient=patient, purpose=purpose, source="staff")
            gates.patient_for_user(request.user, patient.pk, write=True)  # logged as a write by this person
            if not created:
                messages.info(request, _("This phone is already on a patient's card: here it is."))
            return redirect("patients:card", patient.pk)
        # Not echoed back: the page shows no data of another branch's patient, not even the number typed.
        form.data = form.data.copy()
        form.data["phone"] = ""
        form.add_error("phone", _("This phone belongs to a patient of another branch. Record the call as a new "
                                  "inquiry: the card then opens for your branch too."))
    return render(request, "pages/patient_new.html", {"form": form, "section": "patients"})


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
