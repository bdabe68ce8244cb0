"""Pages that bring many apps together: the patient card and patient search.

Every section of the card lists through its app's gate, so in a clinic whose branches keep their own
patients a card opened at one branch never shows another branch's inquiries, visits, cases or tasks.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow import gates
from clinicflow.accounts.decorators import staff_required
from clinicflow.accounts.models import Role, user_roles
from clinicflow.automation.models import Job
from clinicflow.automation.registry import jobs_describe
from clinicflow.clinic.models import Branch
from clinicflow.compliance.models import Consent
from clinicflow.compliance.services import consent_confirm, consent_record, consent_withdraw
from clinicflow.core import limits
from clinicflow.funnel.access import cases_visible_to
from clinicflow.funnel.models import CaseTransition
from clinicflow.inbox.access import inquiries_visible_to, inquiry_for_user
from clinicflow.inbox.models import Message
from clinicflow.messaging.models import OutboundMessage
from clinicflow.messaging.services import inquiry_reply_send
from clinicflow.patients.merging import FILLABLE, patient_merge, patient_merge_preview, patient_unmerge
from clinicflow.patients.models import Channel, Patient, PatientMerge, PatientNote, Representative
from clinicflow.patients.phones import normalize_phone
from clinicflow.patients.services import (
    patient_add_dependant,
    patient_note_add,
    patient_resolve,
    patient_update,
    representative_link,
    representative_unlink,
)
from clinicflow.scheduling.access import appointments_visible_to
from clinicflow.tasks.access import tasks_visible_to
from clinicflow.tasks.forms import MANUAL_KINDS, due_from, owner_choices, owner_from
from clinicflow.tasks.models import Task
from clinicflow.tasks.services import task_create

from .forms import PatientCreateForm

SEARCH_RESULTS = 50
OUTBOUND_SHOWN = 20  # the card's latest messages to the patient: planned, sent, blocked
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
        # Staff rules: someone vouching for the person fills the card's blanks and records their consent, but only
        # on a card of their own branch; a card another branch keeps is shown, not changed.
        vouch = known is not None and gates.may_change_patient(request.user, known)
        patient, created = patient_resolve(branch=data["branch"], phone=data["phone"], full_name=data["full_name"],
                                           fill_blanks=vouch)
        if created or known:
            if created or vouch:
                for purpose in (Consent.Purpose.PROCESSING, Consent.Purpose.SERVICE):
                    consent_record(patient=patient, purpose=purpose, source="staff")
            gates.patient_for_user(request.user, patient.pk, write=created or vouch)  # logged
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
    kept_id = gates.merged_card_for_user(request.user, patient_id)
    if kept_id:
        messages.info(request, _("That card was merged into this one."))
        return redirect("patients:card", kept_id)
    patient = gates.patient_for_user(request.user, patient_id)
    user = request.user
    inquiries = inquiries_visible_to(user).filter(patient=patient)
    cases = cases_visible_to(user).filter(patient=patient)
    appointments = appointments_visible_to(user).filter(patient=patient).select_related("doctor", "service",
                                                                                         "branch")
    merges = list(PatientMerge.objects.filter(kept=patient).select_related("by", "undone_by"))
    return render(request, "pages/card.html", {
        **_card_context(request, patient),
        "consents": patient.consents.all(),
        "purposes": Consent.Purpose.choices,
        "cases": cases.select_related("branch").prefetch_related("transitions__by"),
        "open_cases": _open_cases(cases, inquiries),
        "waiting": inquiries.waiting().select_related("branch"),
        "appointments": appointments.order_by("-starts_at"),
        "jobs": jobs_describe(gates.visible(Job.objects.filter(patient_id=patient.pk), user, branch_field="branch_id")
                              .filter(state__in=[Job.State.PENDING, Job.State.RUNNING, Job.State.FAILED])),
        "timeline": timeline(inquiries, cases, appointments, merges),
        **_people_context(user, patient),
        "merges": merges, "may_merge": gates.may_change_patient(user, patient),
        "may_undo_merges": gates.may_undo_merges(user),
        "outbound": gates.visible(OutboundMessage.objects.filter(patient=patient), user)[:OUTBOUND_SHOWN],
    })


def _people_context(user, patient: Patient) -> dict:
    """Whom the patient acts for and who acts for them. A linked person the reader may not read (another
    branch's, when branches keep their own patients) is shown without a name."""
    represents = list(patient.represents.select_related("patient"))
    represented_by = list(patient.represented_by.select_related("representative"))
    linked = [link.patient_id for link in represents] + [link.representative_id for link in represented_by]
    readable = set(gates.patients_visible_to(user).filter(pk__in=linked).values_list("pk", flat=True) if linked else [])
    return {"represents": represents, "represented_by": represented_by, "readable_people": readable,
            "relations": Representative.Relation.choices, "may_change": gates.may_change_patient(user, patient)}


def _card_context(request, patient: Patient, **extra) -> dict:
    """What the card's acting parts (contacts, notes, tasks) need, for the page and for their fragments."""
    user = request.user
    branch = card_branch(user, patient)
    return {"patient": patient, "section": "patients", "identities": patient.identities.all(),
            "contact_form": _contact_values(patient), "channels": Channel.choices, "languages": settings.LANGUAGES,
            "notes": gates.visible(PatientNote.objects.filter(patient=patient), user).select_related("author",
                                                                                                    "branch"),
            "tasks": tasks_visible_to(user).filter(patient=patient).select_related("assignee", "branch")
            .order_by("done_at", "due_at"),
            "writes_at": branch, "owners": owner_choices(user, None if branch is None else {branch.pk}),
            "task_kinds": [(kind, Task.Kind(kind).label) for kind in MANUAL_KINDS], **extra}


def card_branch(user, patient: Patient) -> Branch | None:
    """The branch the card's notes and tasks are filed at: the patient's home branch when the user works
    there, else the first of the user's own branches (a note belongs to the branch that wrote it)."""
    branches = gates.branches_at_work(user).order_by("name")
    return branches.filter(pk=patient.branch_id).first() or branches.first()


def _open_cases(cases, inquiries) -> list[dict]:
    """Open cases with the inquiry whose page shows their panel (the newest one the reader may see)."""
    newest = {}
    for case_id, inquiry_id in inquiries.filter(case__isnull=False).order_by("received_at", "id").values_list(
            "case_id", "id"):
        newest[case_id] = inquiry_id
    return [{"case": case, "inquiry_id": newest.get(case.pk)} for case in cases.select_related("branch")
            if case.is_open]


def _contact_values(patient: Patient, post=None) -> dict:
    """The contact form's values: the card's, or what was just typed when it was refused."""
    if post is not None:
        phones = [p for p in post.getlist("phones") if p.strip()]
        return {"full_name": post.get("full_name", ""), "phones": phones + [""], "email": post.get("email", ""),
                "birth_date": post.get("birth_date", ""), "preferred_channel": post.get("preferred_channel", ""),
                "language": post.get("language", "")}
    return {"full_name": patient.full_name, "phones": [i.display_address for i in patient.identities.all()
                                                         if i.channel == Channel.PHONE] + [""],
            "email": patient.email, "birth_date": patient.birth_date.isoformat() if patient.birth_date else "",
            "preferred_channel": patient.preferred_channel, "language": patient.language}


def _writable_branch(user, patient: Patient) -> Branch:
    branch = card_branch(user, patient)
    if branch is None:
        raise PermissionDenied  # reads patients, but works for no branch to file the change at
    return branch


@require_POST
@gates.patient_reader_required
def contacts_edit(request, patient_id):
    """Correct the card's contacts; the change is noted (fields, not values) and logged as a write."""
    patient = gates.patient_for_user(request.user, patient_id, write=True)
    branch = _writable_branch(request.user, patient)
    post, errors = request.POST, {}
    birth_date = None
    try:
        birth_date = parse_date(post.get("birth_date", "")) if post.get("birth_date") else None
        if post.get("birth_date") and birth_date is None:
            raise ValueError
    except ValueError:
        errors["birth_date"] = _("Give the birth date as a date.")
    changed = []
    if not errors:
        try:
            changed = patient_update(patient=patient, by=request.user, branch=branch,
                                     full_name=post.get("full_name", ""), phones=post.getlist("phones"),
                                     email=post.get("email", ""), birth_date=birth_date,
                                     preferred_channel=post.get("preferred_channel", ""),
                                     language=post.get("language", ""))
        except ValidationError as exc:
            errors = {field: " ".join(msgs) for field, msgs in exc.message_dict.items()}
            patient.refresh_from_db()
    extra = {"contact_errors": errors, "contacts_saved": not errors and bool(changed)}
    if errors:
        extra["contact_form"] = _contact_values(patient, post)
    return _card_fragments(request, patient, ["contacts", "notes"], **extra)


@require_POST
@gates.patient_reader_required
def note_add(request, patient_id):
    # A note is the writer's branch's own: any branch that reads the patient may keep one.
    patient = gates.patient_for_user(request.user, patient_id)
    error = ""
    try:
        patient_note_add(patient=patient, branch=_writable_branch(request.user, patient), by=request.user,
                         body=request.POST.get("body", ""))
    except ValidationError as exc:
        error = " ".join(exc.messages)
    return _card_fragments(request, patient, ["notes"], note_error=error, note_text=request.POST.get("body", "")
                           if error else "")


@require_POST
@gates.patient_reader_required
def card_task_add(request, patient_id):
    """A task about this patient (call back at…), for me, a colleague of the branch or a role."""
    patient = gates.patient_for_user(request.user, patient_id)  # the task is the user's branch's own
    branch = _writable_branch(request.user, patient)
    kind = request.POST.get("kind") if request.POST.get("kind") in MANUAL_KINDS else Task.Kind.CALLBACK
    error = ""
    try:
        assignee, role = owner_from(request.POST.get("owner", ""), user=request.user)
        task_create(title=request.POST.get("title", ""), kind=kind, branch=branch, patient=patient,
                    due_at=due_from(request.POST.get("due_at", ""), branch), assignee=assignee, role=role,
                    created_by=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    return _card_fragments(request, patient, ["tasks"], task_error=error)


def _card_fragments(request, patient: Patient, partials: list[str], **extra):
    """htmx: the changed parts of the card (the first in place, the others out of band); else the card."""
    if not request.htmx:
        failed = [message for key, message in extra.items() if key.endswith("_error") and message]
        failed += list(extra.get("contact_errors", {}).values())
        for message in failed:
            messages.error(request, message)
        return redirect("patients:card", patient.pk)
    context = _card_context(request, patient, **extra)
    html = [render_to_string(f"pages/card.html#{name}", {**context, "oob": index > 0}, request=request)
            for index, name in enumerate(partials)]
    return HttpResponse("".join(html))


def timeline(inquiries, cases, appointments, merges=()) -> list[dict]:
    """What happened with a patient at the branches the reader may see, newest first."""
    events = []
    for merge in merges:
        events.append({"at": merge.at, "kind": "merge", "who": merge.by, "text": _(
            "Card #%(card)s merged into this one: %(reason)s") % {"card": merge.merged_id, "reason": merge.reason}})
        if merge.undone_at:
            events.append({"at": merge.undone_at, "kind": "merge", "who": merge.undone_by, "text": _(
                "Merge with card #%(card)s undone.") % {"card": merge.merged_id}})
    for inquiry in inquiries:
        events.append({"at": inquiry.received_at, "kind": "inquiry",
                       "text": _("Inquiry via %(channel)s") % {"channel": inquiry.get_channel_display()}})
    for message in Message.objects.filter(inquiry__in=inquiries).select_related("author"):
        events.append({"at": message.created_at, "kind": message.direction, "text": message.shown_text,
                       "who": message.author})
    for move in CaseTransition.objects.filter(case__in=cases).select_related("by"):
        events.append({"at": move.at, "kind": "stage", "who": move.by, "text": _("Stage: %(stage)s%(reason)s") % {
            "stage": move.get_to_stage_display(), "reason": f" — {move.reason_shown}" if move.reason else ""}})
    for appointment in appointments:
        events.append({"at": appointment.created_at, "kind": "appointment", "text": _(
            "Appointment with %(doctor)s on %(when)s: %(status)s") % {
            "doctor": appointment.doctor, "when": appointment.local_starts_at.strftime("%d.%m.%Y %H:%M"),
            "status": appointment.get_status_display()}})
    return sorted(events, key=lambda e: e["at"], reverse=True)


@require_POST
@gates.patient_reader_required
def consent_change(request, patient_id):
    """The front desk records what the patient said on the phone: a consent given, confirmed or withdrawn.

    Any branch that reads the patient records a withdrawal (it only ever stops messages); giving or confirming
    is for the patient's home branch.
    """
    action, purpose = request.POST.get("action"), request.POST.get("purpose")
    patient = gates.patient_for_user(request.user, patient_id, write=action != "withdraw")
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


@require_POST
@gates.patient_reader_required
def dependant_add(request, patient_id):
    """A child or a ward of this patient, who has no phone of their own: a new card linked to this one."""
    patient = gates.patient_for_user(request.user, patient_id, write=True)
    post = request.POST
    try:
        dependant = patient_add_dependant(representative=patient, full_name=post.get("full_name", ""),
                                          birth_date=_date_given(post.get("birth_date", "")),
                                          relation=post.get("relation", ""), by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        gates.patient_for_user(request.user, dependant.pk, write=True)  # a new card: logged as written
        messages.success(request, _("Dependant added."))
    return redirect("patients:card", patient.pk)


@require_POST
@gates.patient_reader_required
def representative_add(request, patient_id):
    """Link an existing patient, found by card number or phone: they act for this patient, or the other way."""
    patient = gates.patient_for_user(request.user, patient_id, write=True)
    try:
        other = _patient_named(request.user, request.POST.get("who", ""))
        if request.POST.get("direction") == "acts_for":
            representative_link(representative=patient, patient=other, relation=request.POST.get("relation", ""),
                                by=request.user)
        else:
            representative_link(representative=other, patient=patient, relation=request.POST.get("relation", ""),
                                by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Linked."))
    return redirect("patients:card", patient.pk)


def _date_given(raw: str):
    try:
        value = parse_date(raw) if raw else None
    except ValueError:  # well formed, but no such day
        value = None
    if raw and value is None:
        raise ValidationError({"birth_date": _("Give the birth date as a date.")})
    return value


def _patient_named(user, who: str) -> Patient:
    """The patient a desk means by "#123" or by a phone, if they may change that patient's card too (a link
    changes whom messages about them reach); logged as a write."""
    who = who.strip().lstrip("#№").strip()
    if not who:
        raise ValidationError({"who": _("Give the other patient's card number or phone.")})
    if who.isdigit() and len(who) <= 9:
        found = gates.patients_visible_to(user).filter(pk=int(who)).first()
    else:
        found = gates.patients_visible_to(user).filter(identities__channel=Channel.PHONE,
                                                       identities__address=normalize_phone(who)).first()
    if found is None:
        raise ValidationError({"who": _("No patient with the card number or phone “%(who)s”.") % {"who": who}})
    if not gates.may_change_patient(user, found):
        raise ValidationError({"who": _("That patient's card is kept by another branch: it links them.")})
    return gates.patient_for_user(user, found.pk, write=True)


@gates.patient_reader_required
def merge_choose(request, patient_id):
    """Merge with another card…: find the card of the same person (the hits update as one types)."""
    patient = gates.patient_for_user(request.user, patient_id)
    query = request.GET.get("q", "")[:settings.CLINICFLOW_SEARCH_MAX_LENGTH]
    found = [p for p in search_patients(request.user, query, limit=SEARCH_HITS) if p.pk != patient.pk] \
        if query.strip() else []
    context = {"patient": patient, "found": found, "query": query, "section": "patients",
               "query_max_length": settings.CLINICFLOW_SEARCH_MAX_LENGTH}
    return render(request, "pages/merge.html#choices" if request.htmx else "pages/merge.html", context)


@gates.patient_reader_required
def merge_confirm(request, patient_id, other_id):
    """Both cards named and what will move counted; a POST merges card `other_id` into card `patient_id`."""
    error = ""
    if request.method == "POST":
        try:
            keep, merge = gates.patients_to_merge(request.user, patient_id, other_id)
            patient_merge(keep=keep, merge=merge, by=request.user, reason=request.POST.get("reason", ""))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Card #%(card)s was merged into this one.") % {"card": merge.pk})
            return redirect("patients:card", keep.pk)
    keep = gates.patient_for_user(request.user, patient_id)
    merge = gates.patient_for_user(request.user, other_id)
    return render(request, "pages/merge_confirm.html", {
        "patient": keep, "other": merge, "moves": patient_merge_preview(merge=merge), "error": error,
        "reason": request.POST.get("reason", ""), "section": "patients",
        "fills": [str(Patient._meta.get_field(name).verbose_name) for name in FILLABLE
                  if not getattr(keep, name) and getattr(merge, name)],
        "may_merge": gates.may_change_patient(request.user, keep) and gates.may_change_patient(request.user, merge),
    }, status=422 if error else 200)


@require_POST
@gates.patient_reader_required
def representative_remove(request, patient_id, link_id):
    """End a link (a child grown up, a guardianship ended); both cards stay."""
    patient = gates.patient_for_user(request.user, patient_id, write=True)
    link = Representative.objects.filter(Q(patient=patient) | Q(representative=patient), pk=link_id).first()
    if link is None:
        messages.error(request, _("That link no longer exists."))
    else:
        representative_unlink(representative=link.representative, patient=link.patient, by=request.user)
        messages.success(request, _("Link removed."))
    return redirect("patients:card", patient.pk)


@require_POST
@gates.patient_reader_required
def merge_undo(request, merge_id):
    """A manager splits two merged cards again (only while nothing made it impossible)."""
    record = gates.merge_for_user(request.user, merge_id)
    try:
        patient_unmerge(merge_record=record, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The merge was undone: card #%(card)s is a card of its own again.") % {
            "card": record.merged_id})
    return redirect("patients:card", record.kept_id)


@require_POST
@gates.patient_reader_required
def inquiry_send(request, inquiry_id):
    """Answer in writing from the inquiry page: recorded as the answer, and sent to the patient."""
    inquiry = inquiry_for_user(request.user, inquiry_id, write=True)
    text = request.POST.get("text", "")
    try:
        if len(text) > limits.ANSWER:
            raise ValidationError({"text": _("At most %(limit)d characters, please.") % {"limit": limits.ANSWER}})
        inquiry_reply_send(inquiry=inquiry, by=request.user, text=text, channel=request.POST.get("channel") or None)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("inbox:inquiry", inquiry_id)
