"""POST /hooks/mis/fhir: the MIS tells us a visit's status. Token-checked, all or nothing, never clinical."""

import io
import json
import logging

import pytest
from django.core.management import call_command

from clinicflow.funnel.models import Case, Stage
from clinicflow.funnel.services import case_open_for
from clinicflow.mis.models import UnmappedMisStatus
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.services import appointment_book, appointment_set_status

from .conftest import WEBHOOK_TOKEN, hook_headers

pytestmark = pytest.mark.django_db
S = Appointment.Status
MARKERS = ("MARKER-REASON", "MARKER-DIAGNOSIS", "MARKER-COMMENT", "MARKER-NOTE", "MARKER-SUPPORT",
           "MARKER-INSTRUCTION", "MARKER-DESCRIPTION", "MARKER-CANCEL", "MARKER-DISPLAY")


@pytest.fixture
def connected(settings):
    settings.CLINICFLOW_MIS_BASE_URL = "http://127.0.0.1:9/fhir"  # never called by these tests
    settings.CLINICFLOW_MIS_WEBHOOK_TOKEN = WEBHOOK_TOKEN


@pytest.fixture
def visit(connected, ivan, doctor, moscow):
    """Ivan's booked visit, known to the MIS as Appointment/a-100."""
    case, _created = case_open_for(patient=ivan, branch=moscow)
    appointment = appointment_book(patient=ivan, doctor=doctor, branch=moscow, case=case,
                                   starts_at=Appointment._meta.get_field("starts_at").to_python("2030-03-04T07:00Z"))
    Appointment.objects.filter(pk=appointment.pk).update(mis_id="a-100", status=Appointment.Status.BOOKED)  # pushed
    appointment.refresh_from_db()
    return appointment


def fhir_appointment(status: str, mis_id: str = "a-100", **more) -> dict:
    return {"resourceType": "Appointment", "id": mis_id, "status": status, "start": "2030-03-04T07:00:00Z",
            "end": "2030-03-04T07:30:00Z", "meta": {"lastUpdated": "2030-03-04T08:00:00.000Z"},
            "participant": [{"actor": {"reference": "Practitioner/p-1"}, "status": "accepted"}], **more}


def post(client, body, token: str = WEBHOOK_TOKEN):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/hooks/mis/fhir", raw, **hook_headers(token))


def test_without_a_configured_token_the_hook_does_not_exist(client, visit, settings):
    settings.CLINICFLOW_MIS_WEBHOOK_TOKEN = ""

    assert post(client, fhir_appointment("fulfilled"), token="").status_code == 404
    assert Appointment.objects.get(pk=visit.pk).status == S.BOOKED


@pytest.mark.parametrize("token", ["", "wrong", WEBHOOK_TOKEN + "x"])
def test_a_wrong_or_missing_token_is_refused_and_changes_nothing(client, visit, token):
    response = post(client, fhir_appointment("fulfilled"), token=token)

    assert response.status_code == 401
    assert Appointment.objects.get(pk=visit.pk).status == S.BOOKED


def test_the_hook_answers_only_post(client, connected):
    assert client.get("/hooks/mis/fhir", **hook_headers()).status_code == 405


@pytest.mark.parametrize(("fhir_status", "ours"), [
    ("fulfilled", S.COMPLETED), ("noshow", S.NO_SHOW), ("cancelled", S.CANCELLED), ("arrived", S.ARRIVED),
    ("checked-in", S.ARRIVED), ("booked", S.BOOKED), ("pending", S.BOOKED)])
def test_each_fhir_status_maps_to_ours(client, visit, fhir_status, ours):
    response = post(client, fhir_appointment(fhir_status))

    assert response.status_code == 200
    assert Appointment.objects.get(pk=visit.pk).status == ours


def test_completion_from_the_mis_moves_the_case_to_appointment_completed(client, visit):
    post(client, fhir_appointment("fulfilled"))

    assert Case.objects.get(pk=visit.case_id).stage == Stage.COMPLETED


def test_a_delivery_repeated_changes_nothing_more(client, visit):
    post(client, fhir_appointment("fulfilled"))
    response = post(client, fhir_appointment("fulfilled"))

    assert response.json() == {"results": ["unchanged"]}
    assert Case.objects.get(pk=visit.case_id).transitions.filter(to_stage=Stage.COMPLETED).count() == 1


def test_a_confirmed_visit_stays_confirmed_when_the_mis_says_booked(client, visit):
    appointment_set_status(appointment=visit, status=S.CONFIRMED)

    post(client, fhir_appointment("booked"))

    assert Appointment.objects.get(pk=visit.pk).status == S.CONFIRMED


@pytest.mark.parametrize("fhir_status", ["proposed", "waitlist", "entered-in-error", "rescheduled-by-robot"])
def test_a_status_we_do_not_map_is_recorded_and_reported_never_guessed(client, visit, fhir_status, caplog):
    with caplog.at_level(logging.WARNING, logger="clinicflow.mis"):
        post(client, fhir_appointment(fhir_status))
        response = post(client, fhir_appointment(fhir_status))

    assert response.status_code == 200
    assert Appointment.objects.get(pk=visit.pk).status == S.BOOKED
    row = UnmappedMisStatus.objects.get()
    assert (row.mis_appointment_id, row.status, row.appointment_id, row.times_seen) == (
        "a-100", fhir_status, visit.pk, 2)
    assert f"'{fhir_status}'" in caplog.text


def test_a_subscription_notification_bundle_is_applied(client, visit):
    bundle = {"resourceType": "Bundle", "type": "history", "entry": [
        {"fullUrl": "urn:uuid:status", "resource": {"resourceType": "Parameters", "parameter": [
            {"name": "type", "valueCode": "event-notification"}]}},
        {"fullUrl": "https://mis.example/fhir/Appointment/a-100", "resource": fhir_appointment("noshow")}]}

    response = post(client, bundle)

    assert response.status_code == 200, response.content
    assert Appointment.objects.get(pk=visit.pk).status == S.NO_SHOW


def test_an_appointment_not_booked_through_clinicflow_is_ignored(client, visit):
    response = post(client, fhir_appointment("fulfilled", mis_id="someone-else"))

    assert response.json() == {"results": ["not booked through clinicflow"]}
    assert Appointment.objects.get(pk=visit.pk).status == S.BOOKED


@pytest.mark.parametrize(("body", "field"), [
    ("{not json", "body"),
    ({"resourceType": "Patient", "id": "x"}, "resourceType"),
    ({k: v for k, v in fhir_appointment("fulfilled").items() if k != "status"}, "status"),
    ({**fhir_appointment("fulfilled"), "start": "yesterday"}, "start"),
    ({**fhir_appointment("fulfilled"), "id": "../../etc"}, "id"),
    ({**fhir_appointment("fulfilled"), "status": "ful\u0000filled"}, "status"),
    ({"resourceType": "Bundle", "type": "history", "entry": [
        {"resource": fhir_appointment("fulfilled")},
        {"resource": {k: v for k, v in fhir_appointment("noshow").items() if k != "status"}}]},
     "entry.1.resource.status"),
])
def test_a_malformed_notification_is_refused_naming_the_field_and_nothing_is_saved(client, visit, body, field):
    response = post(client, body)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert Appointment.objects.get(pk=visit.pk).status == S.BOOKED  # not even the valid first entry
    assert not UnmappedMisStatus.objects.exists()


def test_clinical_elements_are_never_stored_logged_or_echoed(client, visit, caplog):
    clinical = {
        "reasonCode": [{"text": "MARKER-REASON"}], "reasonReference": [{"display": "MARKER-REASON"}],
        "comment": "MARKER-COMMENT", "note": [{"text": "MARKER-NOTE"}], "description": "MARKER-DESCRIPTION",
        "supportingInformation": [{"display": "MARKER-SUPPORT"}], "patientInstruction": "MARKER-INSTRUCTION",
        "cancelationReason": {"text": "MARKER-CANCEL"}, "diagnosis": [{"condition": {"display": "MARKER-DIAGNOSIS"}}],
        "participant": [{"actor": {"reference": "Patient/p-1", "display": "MARKER-DISPLAY"}, "status": "accepted"}],
    }
    answers = []
    with caplog.at_level(logging.DEBUG):
        for status in ("arrived", "fulfilled", "invented-status"):
            answers.append(post(client, fhir_appointment(status, **clinical)).content.decode())
        # A malformed one too: its error must not quote what it refused.
        answers.append(post(client, {**fhir_appointment("noshow", **clinical), "start": "MARKER-REASON"})
                       .content.decode())

    assert Appointment.objects.get(pk=visit.pk).status == S.COMPLETED
    everything = io.StringIO()
    call_command("dumpdata", stdout=everything)  # every table of every app
    for marker in MARKERS:
        assert marker not in everything.getvalue()
        assert marker not in caplog.text
        assert not any(marker in answer for answer in answers)
