"""The access matrix: every URL and API operation, asked by every persona about the other branch's patient.

An outside probe of the read gate (clinicflow/gates). The URL conf and the OpenAPI schema are walked, and
each URL pattern / operation must have an entry in the tables below that says how to ask it about an
object of a branch the persona does not work for; a new URL without an entry fails
`test_every_url_and_operation_is_in_the_matrix`, so nothing slips in untested.

Each persona then asks every entry about Novosibirsk's patient Nina (and the marketer and compliance
officer also about Moscow's Ivan). No answer of any status may carry the patient's name, phone (E.164,
formatted, bare digits), e-mail, the text of her message or her task, or her objects' ids in JSON; the
status must be the expected refusal; no POST may change her branch's data. A clinic admin and a superuser
must read both branches through the same table, so a gate that blocks everybody is noticed too.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from html import escape
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicflow.accounts.models import ApiToken, Role, StaffMember
from clinicflow.api import api
from clinicflow.automation.models import Job, WorkerHeartbeat
from clinicflow.clinic.models import Branch, ClinicSettings, Doctor, Service, Specialty
from clinicflow.compliance.models import AccessLogEntry, AccessLogHead, Consent
from clinicflow.funnel.models import Case, CaseTransition, IntakeQuestion, LostReason
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.messaging.models import MessageTemplate
from clinicflow.mis.models import MisSchedule, UnmappedMisStatus
from clinicflow.patients.merging import patient_merge
from clinicflow.patients.models import Channel, Patient, PatientIdentity, PatientMerge, PatientNote, Representative
from clinicflow.patients.services import patient_add_dependant, patient_note_add, patient_resolve
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.services import appointment_book
from clinicflow.scheduling.slots import free_slots
from clinicflow.tasks.models import Task
from clinicflow.tasks.services import task_create
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

# --- the table -----------------------------------------------------------------------------------

OBJECT = "object"  # names one object of the target branch in its path: 404 to staff of other branches
LIST = "list"  # lists or searches patient data: 200 without the target's rows to other branches' staff
CREATE = "create"  # files something for the target branch or its patient: refused, and nothing changes
SCREEN = "screen"  # a staff screen that is no list of patients (home, reports, access log): checked for leaks
PUBLIC = "public"  # open to anybody: checked for leaks and 5xx only
ADMIN = "admin"  # the Django admin: no patient data for anybody (see the admin tests)


@dataclass(frozen=True)
class Probe:
    """How to ask one URL about the target branch. Placeholders like {inquiry_id} come from `World.values`."""

    kind: str
    method: str = "get"
    query: str = ""
    body: dict | None = None
    refusal: int | None = None  # the status a Moscow receptionist gets here, when it is always the same
    shows: tuple[str, ...] = ()  # markers a reader of the target branch finds in the answer


# Pages, keyed by the route as the URL conf spells it. The path comes from the route ("<int:case_id>" is
# the target's case); `refusal` is what staff of another branch get.
PAGES: dict[str, tuple[Probe, ...]] = {
    "": (Probe(SCREEN),),
    "healthz": (Probe(PUBLIC),),
    "favicon.ico": (Probe(PUBLIC),),
    # Provider webhooks: no session, checked by the provider's signature or secret (tests/channels); off (404)
    # while their secret is not set, as here.
    "hooks/whatsapp": (Probe(PUBLIC),),
    "hooks/sms/twilio": (Probe(PUBLIC),),
    "hooks/sms/smsru": (Probe(PUBLIC),),
    "login/": (Probe(PUBLIC),),
    # GET only: a POST would log the persona out and turn the rest of the matrix into anonymous requests.
    "logout/": (Probe(PUBLIC),),
    "queue/": (Probe(LIST, refusal=200, shows=("name",)),),
    "inquiries/new/": (
        Probe(LIST, query="branch={branch_id}", refusal=200),
        # A fresh phone: the form shows what was typed, and a filing at the wrong branch must create nothing.
        Probe(CREATE, "post", body={"branch": "{branch_id}", "phone": "+7 900 111-22-33", "full_name": "Probe",
                                    "text": "probe", "consent": "on"}, refusal=200),
    ),
    # Takes the next inquiry of the caller's own branches (or none): never one of the target's.
    "inquiries/next/": (Probe(CREATE, "post", refusal=302),),
    "inquiries/<int:inquiry_id>/": (Probe(OBJECT, refusal=404, shows=("name", "message")),),
    "inquiries/<int:inquiry_id>/take/": (Probe(OBJECT, "post", refusal=404),),
    "inquiries/<int:inquiry_id>/respond/": (Probe(OBJECT, "post", body={"text": "probe"}, refusal=404),),
    "inquiries/<int:inquiry_id>/close/": (Probe(OBJECT, "post", body={"reason": "probe"}, refusal=404),),
    "inquiries/<int:inquiry_id>/apply-given/": (Probe(OBJECT, "post", body={"field": "name"}, refusal=404),),
    "inquiries/<int:inquiry_id>/about/": (Probe(OBJECT, "post", body={"patient": "{dependant_id}"}, refusal=404),),
    "inquiries/<int:inquiry_id>/dependant/": (Probe(OBJECT, "post", body={"full_name": "Probe", "relation": "parent"},
                                                    refusal=404),),
    "inquiries/<int:inquiry_id>/send/": (Probe(OBJECT, "post", body={"text": "probe"}, refusal=404),),
    "cases/": (Probe(LIST, refusal=200, shows=("name",)), Probe(LIST, query="branch={branch_id}&lost=1", refusal=200),
               Probe(LIST, query="q={phone}", refusal=200, shows=("name",))),
    "cases/<int:case_id>/move/": (
        Probe(OBJECT, "post", body={"stage": "{next_stage}", "reason": "probe"}, refusal=404),
        Probe(OBJECT, "post", body={"stage": "{next_stage}", "reason": "probe", "view": "board"}, refusal=404),
    ),
    "cases/<int:case_id>/intake/": (Probe(OBJECT, "post", body={}, refusal=404),),
    "patients/": (
        Probe(LIST, refusal=200),
        Probe(LIST, query="q={phone}", refusal=200, shows=("name",)),
        Probe(LIST, query="q={name}", refusal=200, shows=("formatted_phone",)),
        Probe(LIST, query="q={email}", refusal=200, shows=("name",)),
    ),
    "patients/new/": (
        Probe(LIST, query="phone={phone}", refusal=200),
        # The target's branch is not the caller's: refused in the form, and no card is created.
        Probe(CREATE, "post", body={"branch": "{branch_id}", "phone": "+7 900 111-22-44", "full_name": "Probe",
                                    "consent": "on"}, refusal=200),
        # The target patient's own phone, filed for the caller's branch: their card must not open nor change.
        Probe(CREATE, "post", body={"phone": "{phone}", "full_name": "Probe", "consent": "on"}, refusal=200),
    ),
    "patients/<int:patient_id>/": (Probe(OBJECT, refusal=404,
                                         shows=("name", "formatted_phone", "email", "message", "task", "note")),),
    "compliance/access-log/": (Probe(SCREEN), Probe(SCREEN, query="patient_id={patient_id}")),
    "compliance/access-log.csv": (Probe(SCREEN),),
    "reports/": (Probe(SCREEN),),
    # Imports belong to their importer (and clinic admins); receptionists and marketers get 403. No import
    # exists in the world: the object pages answer 404 to everybody, and must leak nothing either way.
    "imports/": (Probe(SCREEN),),
    # Robots: the board for clinic admins (403 to others), the log of the manager's own branches.
    "robots/": (Probe(SCREEN),),
    "robots/new/": (Probe(SCREEN),),
    "robots/log/": (Probe(SCREEN),),
    "robots/<int:robot_id>/": (Probe(SCREEN),),
    "robots/<int:robot_id>/toggle/": (Probe(SCREEN, "post", body={"enabled": "on"}),),
    "imports/<int:import_id>/": (Probe(SCREEN),),
    "imports/<int:import_id>/run/": (Probe(SCREEN, "post"),),
    "imports/<int:import_id>/refused.csv": (Probe(SCREEN),),
    "tasks/": (Probe(LIST, refusal=200), Probe(LIST, query="view=role", refusal=200),
               Probe(LIST, query="view=overdue", refusal=200)),
    "tasks/<int:task_id>/done/": (Probe(OBJECT, "post", body={"next": "/tasks/"}, refusal=404),),
    "tasks/new/": (Probe(CREATE, "post", body={"branch": "{branch_id}", "title": "probe", "owner": "me",
                                               "due_at": "2030-01-01T10:00"}, refusal=302),),
    "tasks/<int:task_id>/reopen/": (Probe(OBJECT, "post", refusal=404),),
    # The schedule: another branch asked for falls back to the caller's own; a foreign patient is not found.
    "schedule/": (Probe(LIST, query="branch={branch_id}", refusal=200),
                  Probe(OBJECT, query="patient={patient_id}", refusal=404, shows=("name",)),
                  Probe(OBJECT, query="case={case_id}", refusal=404, shows=("name",)),
                  Probe(OBJECT, query="appointment={appointment_id}", refusal=404, shows=("name",))),
    "schedule/book/": (Probe(OBJECT, "post", body={"patient": "{patient_id}", "branch": "{branch_id}",
                                                   "slot": "{doctor_id}|{free_slot}"}, refusal=404),),
    "appointments/<int:appointment_id>/reschedule/": (Probe(OBJECT, "post", body={"slot": "{doctor_id}|{free_slot}"},
                                                            refusal=404),),
    "appointments/<int:appointment_id>/cancel/": (Probe(OBJECT, "post", body={"reason": "probe"}, refusal=404),),
    "tasks/<int:task_id>/reschedule/": (Probe(OBJECT, "post", body={"snooze": "60"}, refusal=404),),
    "tasks/<int:task_id>/reassign/": (Probe(OBJECT, "post", body={"owner": "me"}, refusal=404),),
    # ninja's own pages: the schema and its viewer describe the API, never data.
    "api/v1/openapi.json": (Probe(PUBLIC),),
    "api/v1/docs": (Probe(PUBLIC),),
    "api/v1/": (Probe(PUBLIC),),
    "widget.js": (Probe(PUBLIC),),
    "widget/form/": (Probe(PUBLIC),
                     Probe(PUBLIC, "post", body={"phone": "{phone}", "consent": "on", "branch": "{branch_id}"})),
    # The admin site's own pages; each registered model's pages come from ADMIN_OBJECTS below.
    "admin/": (Probe(ADMIN),),
    "admin/login/": (Probe(ADMIN),),
    "admin/logout/": (Probe(ADMIN),),  # GET only, as logout/
    "admin/password_change/": (Probe(ADMIN),),
    "admin/password_change/done/": (Probe(ADMIN),),
    "admin/autocomplete/": (Probe(ADMIN, query="app_label=clinic&model_name=doctor&field_name=doctors&term={name}"),),
    "admin/jsi18n/": (Probe(ADMIN),),
    "admin/<app_label>/": (Probe(ADMIN),),  # each app with registered models: see page_requests
    "admin/(?P<url>.*)$": (Probe(ADMIN),),
    # Any object by content type: the patient's id, to see it leads nowhere but the gated card.
    "admin/r/<path:content_type_id>/<path:object_id>/": (Probe(ADMIN),),
    "admin/auth/user/<id>/password/": (Probe(ADMIN),),
    "admin/otp_totp/totpdevice/<int:pk>/config/": (Probe(ADMIN),),
    "admin/otp_totp/totpdevice/<int:pk>/qrcode/": (Probe(ADMIN),),
    "admin/accounts/apitoken/<path:object_id>/revoke/": (Probe(ADMIN),),
    "patients/<int:patient_id>/consents/": (Probe(OBJECT, "post", body={"purpose": "processing", "action": "give"},
                                                  refusal=404),),
    "patients/<int:patient_id>/contacts/": (Probe(OBJECT, "post", body={
        "full_name": "Probe", "phones": "+7 900 111-22-33", "preferred_channel": "phone", "language": "ru"},
        refusal=404),),
    "patients/<int:patient_id>/notes/": (Probe(OBJECT, "post", body={"body": "probe"}, refusal=404),),
    "patients/<int:patient_id>/dependants/": (Probe(OBJECT, "post", body={"full_name": "Probe", "relation": "parent"},
                                                    refusal=404),),
    "patients/<int:patient_id>/representatives/": (Probe(OBJECT, "post", body={
        "who": "#{dependant_id}", "direction": "represented_by", "relation": "family"}, refusal=404),),
    "patients/<int:patient_id>/representatives/<int:link_id>/remove/": (Probe(OBJECT, "post", refusal=404),),
    "patients/<int:patient_id>/tasks/": (Probe(OBJECT, "post", body={"title": "probe", "owner": "me",
                                                                      "due_at": "2030-01-01T10:00"}, refusal=404),),
    "patients/<int:patient_id>/merge/": (Probe(OBJECT, refusal=404), Probe(OBJECT, query="q={name}", refusal=404)),
    # The target's second card ({twin_id}, same branch): neither the page nor the merge reaches other branches.
    "patients/<int:patient_id>/merge/<int:other_id>/": (
        Probe(OBJECT, refusal=404), Probe(OBJECT, "post", body={"reason": "probe"}, refusal=404)),
    "patient-merges/<int:merge_id>/undo/": (Probe(OBJECT, "post", refusal=404),),
    "account/language/": (Probe(SCREEN, "post", body={"language": "ru"}),),
    "account/two-factor/": (Probe(SCREEN),),
    "account/two-factor/verify/": (Probe(SCREEN),),
    "account/two-factor/remove/": (Probe(SCREEN, "post", body={"code": "000000"}),),
    # The invitation link of a new member of staff (a password-reset token); asked with a made-up one.
    "account/set-password/<uidb64>/<token>/": (Probe(PUBLIC),),
    "account/set-password/done/": (Probe(PUBLIC),),
    # The MIS's status webhook: no session, a bearer token checked in constant time (404 while none is set).
    # Anybody's probe carries no token: refused before it reads a thing, and nothing changes.
    "hooks/mis/fhir": (Probe(PUBLIC, "post", body={"resourceType": "Appointment", "id": "a-1", "status": "noshow"}),),
    # Providers' webhooks: no session, each signed by its provider (unconfigured in tests: 404).
    "hooks/telephony/zadarma": (Probe(PUBLIC),),
    "hooks/telephony/generic": (Probe(PUBLIC),),
    # Messenger webhooks: no session, the provider's secret instead (404 while the channel is not configured).
    "hooks/telegram": (Probe(PUBLIC),),
    "hooks/max": (Probe(PUBLIC),),
    "hooks/vk": (Probe(PUBLIC),),
}

# API operations from the OpenAPI schema, keyed by (method, path).
OPERATIONS: dict[tuple[str, str], Probe] = {
    # The website form: anybody may leave an inquiry, even with a known patient's number; the answer and
    # the patient's card must not change for it (anonymous input never changes a known patient).
    ("get", "/api/v1/public/widget"): Probe(PUBLIC),
    ("post", "/api/v1/public/inquiries"): Probe(PUBLIC, "post", body={
        "name": "Somebody Else", "phone": "{phone}", "email": "somebody@example.org", "consent": True,
        "branch_id": "{branch_id}", "comment": "probe"}),
    # The widget's slots and bookings (404 unless the clinic offers them); a booking with the target's phone
    # must neither show nor change her card, as the inquiry above.
    ("get", "/api/v1/public/slots"): Probe(PUBLIC, query="branch_id={branch_id}"),
    ("post", "/api/v1/public/bookings"): Probe(PUBLIC, "post", body={
        "name": "Somebody Else", "phone": "{phone}", "email": "somebody@example.org", "consent": True,
        "branch_id": "{branch_id}", "slot": {"doctor_id": "{doctor_id}", "starts_at": "{free_slot}"}}),
    ("get", "/api/v1/patients"): Probe(LIST, query="q={phone}", refusal=200, shows=("name",)),
    ("get", "/api/v1/patients/{patient_id}"): Probe(OBJECT, refusal=404, shows=("name", "email")),
    ("post", "/api/v1/patients/{patient_id}/merge"): Probe(OBJECT, "post", body={
        "merge_id": "{other_id}", "reason": "probe"}, refusal=404),
    ("post", "/api/v1/patient-merges/{merge_id}/undo"): Probe(OBJECT, "post", refusal=404),
    ("get", "/api/v1/inquiries"): Probe(LIST, refusal=200, shows=("inquiry_id",)),
    ("post", "/api/v1/inquiries"): Probe(CREATE, "post", body={
        "phone": "+7 900 111-22-33", "consent": True, "branch_id": "{branch_id}", "comment": "probe"}, refusal=422),
    ("get", "/api/v1/inquiries/{inquiry_id}"): Probe(OBJECT, refusal=404, shows=("inquiry_id",)),
    ("post", "/api/v1/inquiries/{inquiry_id}/take"): Probe(OBJECT, "post", refusal=404),
    ("post", "/api/v1/inquiries/{inquiry_id}/responses"): Probe(OBJECT, "post", body={"text": "probe"}, refusal=404),
    ("get", "/api/v1/cases"): Probe(LIST, query="patient_id={patient_id}", refusal=200, shows=("case_id",)),
    ("get", "/api/v1/cases/{case_id}"): Probe(OBJECT, refusal=404, shows=("case_id",)),
    ("post", "/api/v1/cases/{case_id}/moves"): Probe(OBJECT, "post", body={"stage": "{next_stage}"}, refusal=404),
    ("put", "/api/v1/cases/{case_id}/intake"): Probe(OBJECT, "put", body={}, refusal=404),
    ("post", "/api/v1/cases/{case_id}/transfer"): Probe(OBJECT, "post", body={
        "branch_id": "{other_branch_id}", "reason": "probe"}, refusal=404),
    ("get", "/api/v1/appointments"): Probe(LIST, query="patient_id={patient_id}", refusal=200,
                                           shows=("appointment_id",)),
    ("post", "/api/v1/appointments"): Probe(CREATE, "post", body={
        "patient_id": "{patient_id}", "doctor_id": "{doctor_id}", "branch_id": "{branch_id}",
        "starts_at": "{free_slot}"}, refusal=404),
    ("post", "/api/v1/appointments/{appointment_id}/status"): Probe(OBJECT, "post", body={"status": "confirmed"},
                                                                    refusal=404),
    ("get", "/api/v1/tasks"): Probe(LIST, query="view=overdue", refusal=200),
    ("post", "/api/v1/tasks"): Probe(CREATE, "post", body={
        "title": "probe", "branch_id": "{branch_id}", "due_at": "{free_slot}"}, refusal=404),
    ("post", "/api/v1/tasks/{task_id}/done"): Probe(OBJECT, "post", refusal=404),
    ("post", "/api/v1/tasks/{task_id}/reopen"): Probe(OBJECT, "post", refusal=404),
    ("post", "/api/v1/tasks/{task_id}/reschedule"): Probe(OBJECT, "post", body={"due_at": "{free_slot}"},
                                                          refusal=404),
    ("post", "/api/v1/tasks/{task_id}/reassign"): Probe(OBJECT, "post", body={"role": "receptionist"}, refusal=404),
}

# Every model registered in the admin: which of its objects to open (the target branch's, where it has
# one). A model registered without an entry here fails the enumeration test.
ADMIN_OBJECTS = {
    Group: lambda w: Group.objects.get(name=Role.RECEPTIONIST),
    User: lambda w: w.staff,
    StaffMember: lambda w: w.staff.staff,
    ApiToken: lambda w: ApiToken.objects.filter(user=w.staff).first(),
    Branch: lambda w: w.branch,
    Specialty: lambda w: Specialty.objects.first(),
    Service: lambda w: Service.objects.first(),
    Doctor: lambda w: w.doctor,
    ClinicSettings: lambda w: ClinicSettings.load(),
    Job: lambda w: Job.objects.filter(patient_id=w.patient.pk).first(),
    WorkerHeartbeat: lambda w: WorkerHeartbeat.objects.first(),
    IntakeQuestion: lambda w: IntakeQuestion.objects.first(),
    LostReason: lambda w: LostReason.objects.first(),
    TOTPDevice: lambda w: TOTPDevice.objects.first(),
    AccessAttempt: lambda w: AccessAttempt.objects.first(),
    AccessLog: lambda w: AccessLog.objects.first(),
    AccessFailureLog: lambda w: AccessFailureLog.objects.first(),
    MisSchedule: lambda w: MisSchedule.objects.first(),
    UnmappedMisStatus: lambda w: UnmappedMisStatus.objects.first(),
    MessageTemplate: lambda w: MessageTemplate.objects.first(),
}
ADMIN_MODEL_ROUTES = ("", "add/", "<path:object_id>/history/", "<path:object_id>/delete/",
                      "<path:object_id>/change/", "<path:object_id>/")

# Patient data is read only through the gate and the access log, never in the admin (decision 0002).
PATIENT_DATA = {Patient, PatientIdentity, Inquiry, Message, Case, CaseTransition, Appointment, Task, Consent,
                AccessLogEntry, AccessLogHead, PatientNote, PatientMerge}


# --- enumeration -----------------------------------------------------------------------------------


def url_routes(resolver=None, prefix: str = "") -> list[tuple[str, URLPattern]]:
    """Every URL pattern of the project as (route, pattern), with the admin's and the API's."""
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += url_routes(pattern, route)
        else:
            found.append((re.sub(r"\^\(\?P<app_label>[^)]*\)/\$", "<app_label>/", route), pattern))
    return found


def api_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [(method, path) for path, operations in schema["paths"].items() for method in operations]


def admin_model_routes() -> dict[str, type]:
    return {f"admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}": model
            for model in admin.site._registry for suffix in ADMIN_MODEL_ROUTES}


def is_api_operation(pattern: URLPattern) -> bool:
    return getattr(pattern.callback, "__module__", "") == "ninja.operation"


def test_every_url_and_operation_is_in_the_matrix():
    schema_paths = {path for _method, path in api_operations()}
    model_routes = admin_model_routes()
    missing = []
    for route, pattern in url_routes():
        if route in PAGES or route in model_routes:
            continue
        # ninja's routes are probed as operations: each must be a path of the schema.
        if is_api_operation(pattern) and "/" + re.sub(r"<(\w+)>", r"{\1}", route) in schema_paths:
            continue
        missing.append(route)
    missing += [f"{method.upper()} {path}" for method, path in api_operations() if (method, path) not in OPERATIONS]
    missing += [f"admin object for {model.__name__}" for model in admin.site._registry if model not in ADMIN_OBJECTS]
    assert not missing, f"URLs without an entry in the access matrix: {missing}"


def test_the_matrix_has_no_entries_for_urls_that_are_gone():
    routes = {route for route, _pattern in url_routes()}
    assert set(PAGES) - routes == set()
    assert set(OPERATIONS) - set(api_operations()) == set()
    assert set(ADMIN_OBJECTS) - set(admin.site._registry) == set()


def test_patient_data_has_no_admin_pages():
    assert PATIENT_DATA & set(admin.site._registry) == set()


# --- the data: one patient per branch, with all she has -------------------------------------------


@dataclass
class World:
    """One branch's patient with an inquiry, a case, an appointment, a task and consents."""

    branch: Branch
    other_branch: Branch
    patient: Patient
    inquiry: Inquiry
    case: Case
    appointment: Appointment
    task: Task
    doctor: Doctor
    staff: User  # a receptionist of this branch
    link: Representative  # she acts for her son, who has no phone of his own
    twin: Patient  # a second card at the branch, for the merge pages
    merge: PatientMerge  # a third card, merged into the patient's, for the undo
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def values(self) -> dict:
        return {**self.markers, "branch_id": self.branch.pk, "other_branch_id": self.other_branch.pk,
                "patient_id": self.patient.pk, "inquiry_id": self.inquiry.pk, "case_id": self.case.pk,
                "appointment_id": self.appointment.pk, "task_id": self.task.pk, "doctor_id": self.doctor.pk,
                "next_stage": self.case.next_stages()[0], "import_id": 0, "robot_id": 0, "link_id": self.link.pk,
                "dependant_id": self.link.patient_id, "other_id": self.twin.pk, "merge_id": self.merge.pk,
                "free_slot": (timezone.now() + timedelta(days=9)).replace(microsecond=0).isoformat()}

    def ids(self) -> dict[str, int]:
        """Her objects' ids as JSON answers name them."""
        return {"patient_id": self.patient.pk, "inquiry_id": self.inquiry.pk, "case_id": self.case.pk,
                "appointment_id": self.appointment.pk, "task_id": self.task.pk}

    def state(self) -> list:
        """Everything a write could change at this branch or on its patient."""
        tables = [Patient.objects.filter(pk=self.patient.pk),
                  PatientIdentity.objects.filter(patient=self.patient),
                  Consent.objects.filter(patient=self.patient),
                  Patient.objects.filter(branch=self.branch),
                  Inquiry.objects.filter(branch=self.branch),
                  Message.objects.filter(inquiry__branch=self.branch),
                  Case.objects.filter(branch=self.branch),
                  CaseTransition.objects.filter(case__patient=self.patient),
                  Appointment.objects.filter(branch=self.branch),
                  Task.objects.filter(branch=self.branch),
                  PatientNote.objects.filter(patient=self.patient),
                  Representative.objects.filter(Q(patient__branch=self.branch) | Q(representative__branch=self.branch)),
                  PatientMerge.objects.filter(kept=self.patient)]
        return [list(rows.order_by("pk").values()) for rows in tables]


def world_of(*, patient: Patient, branch: Branch, other_branch: Branch, staff: User, doctor: Doctor,
             email: str, tag: str) -> World:
    """Build it through the services, as the clinic's own screens would."""
    message, task_title = f"message-marker-{tag}-7f3a", f"Call back: task-marker-{tag}-2c9d"
    phone = patient.phones[0]
    inquiry, _created = inquiry_receive(draft=InquiryDraft(
        channel=Channel.PHONE, phone=phone, full_name=patient.full_name, email=email, text=message, consent=True,
        branch_id=branch.pk), created_by=staff)
    in_three_days = timezone.now() + timedelta(days=3)
    slot = free_slots(branch=branch, doctor=doctor, start=in_three_days, end=in_three_days + timedelta(days=7))[0]
    appointment = appointment_book(patient=patient, doctor=doctor, branch=branch, case=inquiry.case, by=staff,
                                   starts_at=slot.starts_at)
    task = task_create(title=task_title, branch=branch, due_at=timezone.now() - timedelta(hours=1),
                       role=Role.RECEPTIONIST, patient=patient, inquiry=inquiry, created_by=staff)
    note = f"note-marker-{tag}-5e1b"
    patient_note_add(patient=patient, branch=branch, by=staff, body=note)
    ApiToken.issue(user=staff, name=f"{tag} integration")
    son = patient_add_dependant(representative=patient, full_name=f"Son {tag}", relation="parent", by=staff)
    twin, _created = patient_resolve(branch=branch, phone=f"+7 900 555-{tag_digits(tag)}-01")
    merged, _created = patient_resolve(branch=branch, phone=f"+7 900 555-{tag_digits(tag)}-02")
    merge = patient_merge(keep=patient, merge=merged, by=staff, reason="second card")
    patient.refresh_from_db()
    assert patient.email == email and patient.consents.exists()
    digits = phone.lstrip("+")[1:]
    return World(branch=branch, other_branch=other_branch, patient=patient, inquiry=inquiry,
                 case=Case.objects.get(pk=inquiry.case_id), appointment=appointment, task=task, doctor=doctor,
                 staff=staff, link=son.represented_by.get(), twin=twin, merge=merge,
                 markers={"name": patient.full_name, "phone": phone,
                                       "formatted_phone": patient.display_phone, "phone_digits": digits,
                                       "email": email, "message": message, "task": task_title, "note": note})


def tag_digits(tag: str) -> str:
    return {"nsk": "11", "msk": "22"}[tag]


@pytest.fixture
def nina_world(novosibirsk, moscow, nina, outsider, cardiology) -> World:
    doctor = Doctor.objects.create(full_name="Dr. Boris Orlov")
    doctor.branches.add(novosibirsk)
    doctor.specialties.add(cardiology)
    WorkerHeartbeat.objects.create(name="worker-1")
    # The widget's public slots and bookings answer (rather than 404) so that the probe reaches them.
    ClinicSettings.objects.update_or_create(pk=1, defaults={"widget_offers_slots": True})
    return world_of(patient=nina, branch=novosibirsk, other_branch=moscow, staff=outsider, doctor=doctor,
                    email="nina.sokolova@example.org", tag="nsk")


@pytest.fixture
def ivan_world(moscow, novosibirsk, ivan, receptionist, doctor, consultation) -> World:
    return world_of(patient=ivan, branch=moscow, other_branch=novosibirsk, staff=receptionist, doctor=doctor,
                    email="ivan.petrov@example.org", tag="msk")


# --- personas ----------------------------------------------------------------------------------------


@dataclass
class Persona:
    name: str
    client: Client
    session: bool = True  # logged in on the web (False: anonymous, or an API token only)
    staff_member: bool = True  # has a clinicflow role (or is a superuser)
    reads_patients: bool = False


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def personas(moscow, receptionist, manager, clinic_admin, django_user_model) -> dict[str, Persona]:
    _token, key = ApiToken.issue(user=receptionist, name="website")
    no_role = django_user_model.objects.create_user("stan", password="pass-stan", is_staff=True)
    root = django_user_model.objects.create_superuser("root", password="pass-root")
    marketer = make_staff("mark", Role.MARKETER, [moscow])
    compliance = make_staff("cora", Role.COMPLIANCE_OFFICER, [moscow])
    return {persona.name: persona for persona in [
        Persona("anonymous", Client(), session=False, staff_member=False),
        Persona("moscow receptionist", logged_in(receptionist), reads_patients=True),
        Persona("moscow front-office manager", logged_in(manager), reads_patients=True),
        Persona("moscow receptionist's API token", Client(headers={"authorization": f"Bearer {key}"}),
                session=False, reads_patients=True),
        Persona("marketer", logged_in(marketer)),
        Persona("compliance officer", logged_in(compliance)),
        Persona("staff user with no role", logged_in(no_role), staff_member=False),
        Persona("clinic admin", logged_in(clinic_admin), reads_patients=True),
        Persona("superuser", logged_in(root), reads_patients=True),
    ]}


# --- asking and judging ------------------------------------------------------------------------------


@dataclass
class Request:
    label: str
    probe: Probe
    method: str
    path: str
    body: dict | None = None

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")


def fill(template, values: dict, *, as_json: bool = False):
    if isinstance(template, dict):
        return {key: fill(value, values, as_json=as_json) for key, value in template.items()}
    text = str(template).format(**values)
    return int(text) if as_json and text.isdigit() else text


def requests_for(world: World) -> list[Request]:
    """The whole matrix for one target, in a fixed order."""
    values = world.values
    requests = []
    for route, probes in PAGES.items():
        for probe in probes:
            path = "/" + re.sub(r"<(?:int:)?(\w+)>", r"{\1}", route)
            requests += page_requests(route, probe, path, world, values)
    for (method, path), probe in OPERATIONS.items():
        body = None if probe.body is None else {k: fill(v, values, as_json=True) for k, v in probe.body.items()}
        requests.append(Request(f"{method.upper()} {path}", probe, method, fill(path, values) + query_of(probe, values),
                                body))
    for route, model in admin_model_routes().items():
        obj = ADMIN_OBJECTS[model](world)
        path = "/" + route.replace("<path:object_id>", str(obj.pk if obj else 0))
        requests.append(Request(route, Probe(ADMIN), "get", path))
        if route.endswith(f"/{model._meta.model_name}/") and admin.site._registry[model].search_fields:
            for query in ("phone", "name"):
                requests.append(Request(f"{route}?q={query}", Probe(ADMIN, query=f"q={{{query}}}"), "get",
                                        path + query_of(Probe(ADMIN, query=f"q={{{query}}}"), values)))
    return requests


def query_of(probe: Probe, values: dict) -> str:
    if not probe.query:
        return ""
    return "?" + urlencode([(k, fill(v, values)) for k, v in parse_qsl(probe.query, keep_blank_values=True)])


def page_requests(route: str, probe: Probe, path: str, world: World, values: dict) -> list[Request]:
    """Pages whose path needs more than the target's ids (the admin's)."""
    if route == "admin/<app_label>/":
        return [Request(route, probe, "get", f"/admin/{label}/")
                for label in sorted({m._meta.app_label for m in admin.site._registry})]
    if route == "admin/(?P<url>.*)$":
        return [Request(route, probe, "get", "/admin/no-such-page/")]
    if route == "admin/r/<path:content_type_id>/<path:object_id>/":
        return [Request(route, probe, "get", f"/admin/r/{ContentType.objects.get_for_model(Patient).pk}/"
                                             f"{world.patient.pk}/")]
    if route == "admin/auth/user/<id>/password/":
        return [Request(route, probe, "get", f"/admin/auth/user/{world.staff.pk}/password/")]
    if route.startswith("admin/otp_totp/totpdevice/"):
        return [Request(route, probe, "get", "/admin/otp_totp/totpdevice/1/" + route.rsplit("/", 2)[-2] + "/")]
    if route == "account/set-password/<uidb64>/<token>/":
        return [Request(route, probe, "get", "/account/set-password/MQ/no-such-token/")]
    if route == "admin/accounts/apitoken/<path:object_id>/revoke/":
        token = ApiToken.objects.filter(user=world.staff).first()
        return [Request(route, probe, "get", f"/admin/accounts/apitoken/{token.pk if token else 1}/revoke/")]
    body = None if probe.body is None else {k: fill(v, values) for k, v in probe.body.items()}
    return [Request(f"{probe.method.upper()} /{route}", probe, probe.method,
                    fill(path, values) + query_of(probe, values), body)]


def send(client: Client, request: Request):
    if request.method == "get":
        return client.get(request.path)
    if request.api:
        return getattr(client, request.method)(request.path, json.dumps(request.body or {}),
                                               content_type="application/json")
    return getattr(client, request.method)(request.path, request.body or {})


def answer_text(response, request: Request) -> str:
    """Body and redirect target, without what the request itself carried (a search box shows its query)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace") + "\n" + response.headers.get("Location", "")
    for _level in range(3):  # the admin's links and ?next= quote a query that was quoted already
        text = unquote(text)
    for _name, value in parse_qsl(urlsplit(request.path).query):
        text = text.replace(escape(value), "").replace(value, "")
    return text


def json_ids(payload, resource: str) -> set[tuple[str, int]]:
    """(key, id) pairs in a JSON answer; a bare "id" is named after the resource of the path."""
    found = set()
    if isinstance(payload, list):
        for item in payload:
            found |= json_ids(item, resource)
    elif isinstance(payload, dict):
        for key, value in payload.items():
            if isinstance(value, (list, dict)):
                found |= json_ids(value, "")
            elif isinstance(value, int) and (key.endswith("_id") or (key == "id" and resource)):
                found.add((f"{resource}_id" if key == "id" else key, value))
    return found


def leaks(response, request: Request, world: World) -> list[str]:
    text = answer_text(response, request)
    found = [name for name, marker in world.markers.items() if marker in text]
    if response.headers.get("Content-Type", "").startswith("application/json"):
        resource = urlsplit(request.path).path.split("/")[3] if request.api else ""
        resource = {"patients": "patient", "inquiries": "inquiry", "cases": "case", "appointments": "appointment",
                    "tasks": "task"}.get(resource, "")
        found += [f"{key}={value}" for key, value in json_ids(json.loads(response.content or b"null"), resource)
                  if world.ids().get(key) == value]
    return found


def refusal_problem(persona: Persona, request: Request, response) -> str | None:
    """What is wrong with the status a persona that may not read the target got; None when it is right."""
    status, kind = response.status_code, request.probe.kind
    if status >= 500:
        return f"{status}"
    if kind in (PUBLIC, ADMIN, SCREEN) and not (kind == SCREEN and not persona.session):
        return None
    if not persona.session and not request.api:
        ok = status == 302 and response.url.startswith("/login/")
        return None if ok else f"{status} instead of 302 to /login/"
    if request.api and not (persona.staff_member and (persona.session or persona.reads_patients)):
        return None if status == 401 else f"{status} instead of 401"
    if not persona.staff_member or not persona.reads_patients:
        if kind == SCREEN:
            return None
        # The API lists answer an empty list to roles without patients (no rows are visible to them).
        allowed = {403, 200} if request.api and kind == LIST else {403, 422} if kind == CREATE else {403}
        return None if status in allowed else f"{status} instead of {sorted(allowed)}"
    if request.probe.refusal and status != request.probe.refusal:
        return f"{status} instead of {request.probe.refusal}"
    return None


@dataclass
class Tally:
    requests: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self):
        return f"{self.requests} requests, {len(self.problems)} leaks or wrong answers: {self.problems}"


def probe_as(persona: Persona, world: World, tally: Tally) -> None:
    """Every entry of the matrix against `world`, by a persona that may not read it."""
    for request in requests_for(world):
        writes = request.method != "get" and request.probe.kind != PUBLIC
        before = world.state() if writes else None
        response = send(persona.client, request)
        tally.requests += 1
        where = f"{persona.name}: {request.method.upper()} {request.path}"
        found = leaks(response, request, world)
        if found:
            tally.problems.append(f"{where} ({response.status_code}) shows {found}")
        wrong = refusal_problem(persona, request, response)
        if wrong:
            tally.problems.append(f"{where}: {wrong}")
        if writes and world.state() != before:
            tally.problems.append(f"{where} changed the data of {world.branch}")
        if request.probe.kind == PUBLIC and request.method == "post":
            world.patient.refresh_from_db()
            if (world.patient.full_name, world.patient.email) != (world.markers["name"], world.markers["email"]):
                tally.problems.append(f"{where} changed the patient's card")


# --- the matrix --------------------------------------------------------------------------------------

OUTSIDERS_OF_NOVOSIBIRSK = ["anonymous", "moscow receptionist", "moscow front-office manager",
                            "moscow receptionist's API token", "marketer", "compliance officer",
                            "staff user with no role"]


@pytest.mark.parametrize("persona", OUTSIDERS_OF_NOVOSIBIRSK)
def test_nothing_of_novosibirsk_reaches_a_persona_of_moscow(persona, personas, nina_world, ivan_world):
    tally = Tally()
    probe_as(personas[persona], nina_world, tally)
    print(f"{persona} × Novosibirsk: {tally}")
    assert not tally.problems, str(tally)


@pytest.mark.parametrize("persona", ["marketer", "compliance officer", "anonymous", "staff user with no role"])
def test_no_patient_of_any_branch_reaches_people_who_never_read_patients(persona, personas, nina_world, ivan_world):
    tally = Tally()
    probe_as(personas[persona], ivan_world, tally)
    print(f"{persona} × Moscow: {tally}")
    assert not tally.problems, str(tally)


@pytest.mark.parametrize("persona,world", [
    ("clinic admin", "nina_world"), ("clinic admin", "ivan_world"), ("superuser", "nina_world"),
    ("superuser", "ivan_world"), ("moscow receptionist", "ivan_world"),
    ("moscow receptionist's API token", "ivan_world"),
])
def test_readers_of_a_branch_find_its_patient_through_the_same_matrix(persona, world, personas, request):
    """The other side of the gate: a gate that blocked everybody would pass the tests above."""
    world = request.getfixturevalue(world)
    tally = Tally()
    for probe_request in requests_for(world):
        if probe_request.method != "get" or probe_request.probe.kind in (PUBLIC, ADMIN):
            continue
        if "token" in persona and not probe_request.api:
            continue
        response = send(personas[persona].client, probe_request)
        tally.requests += 1
        where = f"{persona}: GET {probe_request.path}"
        # Screens of other roles (reports, the access log) may refuse; patient pages must open.
        if response.status_code >= 500 or (probe_request.probe.kind != SCREEN and response.status_code != 200):
            tally.problems.append(f"{where}: {response.status_code}")
        found = leaks(response, probe_request, world)
        missing = [m for m in probe_request.probe.shows if not any(f == m or f.startswith(f"{m}=") for f in found)]
        if missing:
            tally.problems.append(f"{where} does not show {missing}")
    print(f"{persona} reads {world.branch}: {tally}")
    assert tally.requests >= 8 and not tally.problems, str(tally)


# --- the admin -------------------------------------------------------------------------------------


@pytest.fixture
def admin_staff(manager) -> Client:
    """The probe's setup: a Moscow front-office manager let into the admin with every view permission."""
    manager.is_staff = True
    manager.save()
    manager.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return logged_in(manager)


def admin_requests(world: World) -> list[Request]:
    return [r for r in requests_for(world) if r.probe.kind == ADMIN]


def test_staff_with_every_view_permission_never_see_nina_in_the_admin(admin_staff, nina_world, ivan_world):
    tally, opened = Tally(), []
    for request in admin_requests(nina_world):
        response = send(admin_staff, request)
        tally.requests += 1
        found = leaks(response, request, nina_world)
        if found:
            tally.problems.append(f"GET {request.path} ({response.status_code}) shows {found}")
        if response.status_code >= 500:
            tally.problems.append(f"GET {request.path}: {response.status_code}")
        if response.status_code == 200:
            opened.append(request.path)
    print(f"admin staff × Novosibirsk: {tally}")
    # The probe must really get in: changelists and searches of the models it may view open.
    assert "/admin/clinic/branch/" in opened and any("?q=" in path for path in opened), opened
    assert not tally.problems, str(tally)


DELETE_PAGES = ("admin/clinic/branch/<path:object_id>/delete/", "admin/clinic/doctor/<path:object_id>/delete/")


def test_a_superuser_finds_no_patient_data_in_the_admin_either(personas, nina_world, ivan_world):
    """Superusers read every patient on clinicflow's screens, where each read is logged; not in the admin."""
    tally = Tally()
    for request in admin_requests(nina_world):
        if request.label in DELETE_PAGES:
            continue  # the known leak below
        response = send(personas["superuser"].client, request)
        tally.requests += 1
        found = leaks(response, request, nina_world)
        if found:
            tally.problems.append(f"GET {request.path} ({response.status_code}) shows {found}")
        if response.status_code >= 500:
            tally.problems.append(f"GET {request.path}: {response.status_code}")
    print(f"superuser × admin: {tally}")
    assert not tally.problems, str(tally)


# Regression: the admin's delete confirmation of a branch or a doctor listed the objects that would go with it,
# patient data included (Django prints str() of related rows of models the admin does not register).


@pytest.mark.parametrize("route", DELETE_PAGES)
def test_a_superusers_delete_confirmation_shows_no_patient(route, personas, nina_world, ivan_world):
    request = next(r for r in admin_requests(nina_world) if r.label == route)
    response = send(personas["superuser"].client, request)
    assert leaks(response, request, nina_world) == []


@pytest.mark.parametrize("route", DELETE_PAGES)
def test_moscow_staff_allowed_to_delete_reference_data_see_no_novosibirsk_patient(route, admin_staff, manager,
                                                                                 nina_world, ivan_world):
    manager.user_permissions.add(*Permission.objects.filter(codename__in=["delete_branch", "delete_doctor"]))
    request = next(r for r in admin_requests(nina_world) if r.label == route)
    response = send(admin_staff, request)
    assert response.status_code == 200
    assert leaks(response, request, nina_world) == []
