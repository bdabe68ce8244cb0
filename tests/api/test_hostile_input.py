"""Input found by fuzzing the OpenAPI schema: every one is a 422 (or 415) naming the field, never a 500."""

import json

import pytest

from clinicflow.inbox.models import Inquiry

pytestmark = pytest.mark.django_db
HUGE = 2**63


@pytest.mark.parametrize("url", [f"/api/v1/cases?patient_id={HUGE}", f"/api/v1/appointments?patient_id={HUGE}",
                                 f"/api/v1/patients/{HUGE}", "/api/v1/cases?limit=0",
                                 "/api/v1/appointments?since=0001-01-01T00:00:00%2B05:00",
                                 "/api/v1/appointments?since=2026-01-01T00:00:00"])
def test_out_of_range_query_values_are_refused(client, auth, url):
    assert client.get(url, **auth).status_code == 422


@pytest.mark.parametrize("starts_at", ["9999-12-31T23:59:00+00:00", "0001-01-01T00:00:00+05:00",
                                       "2026-12-01T10:00:00"])
def test_a_booking_outside_two_centuries_or_without_offset_is_refused(client, auth, ivan, doctor, starts_at):
    body = {"patient_id": ivan.pk, "doctor_id": doctor.pk, "starts_at": starts_at}
    response = client.post("/api/v1/appointments", body, content_type="application/json", **auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "starts_at"]


def test_an_unknown_service_is_refused_not_ignored(client, auth, ivan, doctor):
    body = {"patient_id": ivan.pk, "doctor_id": doctor.pk, "starts_at": "2026-12-01T10:00:00+03:00",
            "service_id": 99999}
    response = client.post("/api/v1/appointments", body, content_type="application/json", **auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "service_id"]


def test_a_task_due_in_year_one_is_refused(client, auth, moscow):
    body = {"title": "x", "branch_id": moscow.pk, "due_at": "0001-01-01T00:00:00+05:00"}
    assert client.post("/api/v1/tasks", body, content_type="application/json", **auth).status_code == 422


# --- Text that no database can store: every text input of every operation, read from the published schema.

NUL, SURROGATE = "a\x00b", "a\ud800b"


def _operations() -> tuple[list[tuple[str, str, dict]], dict]:
    from clinicflow.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    return [(method.upper(), path, operation) for path, item in schema["paths"].items()
            for method, operation in item.items()], schema["components"]["schemas"]


OPERATIONS, COMPONENTS = _operations()


def _body_schema(operation: dict) -> dict:
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return COMPONENTS[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def _text_fields() -> list:
    cases = []
    for method, path, operation in OPERATIONS:
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["schema"].get("type") == "string" \
                    and "enum" not in parameter["schema"]:
                name = parameter["name"]
                cases.append(pytest.param(method, path, "query", name, id=f"{method} {path} ?{name}"))
        if "requestBody" in operation:
            body = _body_schema(operation)
            for name, field in body.get("properties", {}).items():
                if field.get("type") == "string" and "enum" not in field and "format" not in field:
                    cases.append(pytest.param(method, path, "body", name, id=f"{method} {path} {name}"))
            if body.get("type") == "object" and "properties" not in body:
                cases.append(pytest.param(method, path, "answers", None, id=f"{method} {path} answers"))
    return cases


TEXT_FIELDS = _text_fields()
# Query parameters limited to a list of values (status, view, stage): NUL is refused as "not one of them".
CHOICE_PARAMETERS = [pytest.param(method, path, "query", parameter["name"], id=f"{method} {path} ?{parameter['name']}")
                     for method, path, operation in OPERATIONS for parameter in operation.get("parameters", [])
                     if parameter["in"] == "query" and "enum" in parameter["schema"]]


def test_the_schema_lists_text_fields_of_every_kind():
    kinds = {param.values[2] for param in TEXT_FIELDS}
    assert kinds == {"query", "body", "answers"}
    assert len(TEXT_FIELDS) >= 20
    assert {param.values[3] for param in CHOICE_PARAMETERS} == {"status", "view", "stage", "lang"}


def _send(client, auth, method, path, where, name, value):
    url = "/".join("1" if part.startswith("{") else part for part in path.split("/"))
    if where == "query":
        return client.get(url, {name: value}, **auth)
    body = {"some question": value} if where == "answers" else {name: value}
    return client.generic(method, url, json.dumps(body), content_type="application/json", **auth)


@pytest.mark.parametrize(("method", "path", "where", "name"), TEXT_FIELDS + CHOICE_PARAMETERS)
def test_a_nul_character_is_refused_naming_the_field(client, auth, moscow, method, path, where, name):
    response = _send(client, auth, method, path, where, name, NUL)
    assert response.status_code == 422
    assert ["query" if where == "query" else "body", name or "some question"] in _locs(response)


@pytest.mark.parametrize(("method", "path", "where", "name"),
                         [param for param in TEXT_FIELDS if param.values[2] != "query"])
def test_a_lone_surrogate_is_refused_naming_the_field(client, auth, moscow, method, path, where, name):
    response = _send(client, auth, method, path, where, name, SURROGATE)
    assert response.status_code == 422
    assert ["body", name or "some question"] in _locs(response)


@pytest.mark.parametrize(("method", "path", "where", "name"),
                         [param for param in TEXT_FIELDS if param.values[2] == "query"])
def test_a_surrogate_cannot_reach_a_query_parameter(client, auth, moscow, method, path, where, name):
    """A URL carries bytes: the UTF-8 spelling of a surrogate is undecodable, so Django reads U+FFFD instead."""
    url = "/".join("1" if part.startswith("{") else part for part in path.split("/"))
    assert client.get(f"{url}?{name}=a%ED%A0%80b", **auth).status_code == 200


def test_an_intake_question_key_with_nul_is_refused(client, auth, moscow):
    response = client.put("/api/v1/cases/1/intake", json.dumps({"a\x00": "x"}), content_type="application/json",
                          **auth)
    assert response.status_code == 422


def _locs(response) -> list[list]:
    return [error["loc"][:2] for error in response.json()["detail"]]


# --- Bounded search, strict flags, JSON bodies only.

def test_a_search_of_200_characters_is_answered(client, auth, moscow):
    assert client.get("/api/v1/patients", {"q": "x" * 200}, **auth).status_code == 200


def test_a_search_longer_than_200_characters_is_refused(client, auth, moscow):
    response = client.get("/api/v1/patients", {"q": "x" * 50_000}, **auth)
    assert response.status_code == 422
    assert _locs(response) == [["query", "q"]]


@pytest.mark.parametrize("consent", ["yes", "true", 1, "1", "on"])
def test_consent_must_be_json_true(client, moscow, consent):
    body = {"phone": "+79161234567", "consent": consent}
    response = client.post("/api/v1/public/inquiries", body, content_type="application/json")
    assert response.status_code == 422
    assert _locs(response) == [["body", "consent"]]


def test_consent_as_json_true_is_accepted(client, moscow):
    body = {"phone": "+79161234567", "consent": True}
    assert client.post("/api/v1/public/inquiries", body, content_type="application/json").status_code == 201


def test_assign_to_me_must_be_a_json_boolean(client, auth, moscow):
    body = {"title": "Call back", "branch_id": moscow.pk, "due_at": "2026-12-01T10:00:00+03:00", "assign_to_me": 1}
    response = client.post("/api/v1/tasks", body, content_type="application/json", **auth)
    assert response.status_code == 422
    assert _locs(response) == [["body", "assign_to_me"]]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "application/json-patch+json"])
def test_a_body_not_sent_as_json_is_refused_with_415(client, moscow, content_type):
    body = json.dumps({"phone": "+79161234567", "consent": True})
    response = client.post("/api/v1/public/inquiries", body, content_type=content_type)
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_a_json_body_may_name_its_charset(client, moscow, content_type):
    body = json.dumps({"phone": "+79161234567", "consent": True})
    assert client.post("/api/v1/public/inquiries", body, content_type=content_type).status_code == 201


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, operation in OPERATIONS if "requestBody" in operation])
def test_every_operation_with_a_body_refuses_other_content_types(client, auth, moscow, method, path):
    url = "/".join("1" if part.startswith("{") else part for part in path.split("/"))
    response = client.generic(method, url, "{}", content_type="text/plain", **auth)
    assert response.status_code == 415


@pytest.mark.parametrize("since", ["0.5", "1700000000"])
def test_a_time_must_be_written_in_iso_8601(client, auth, moscow, since):
    assert client.get("/api/v1/appointments", {"since": since}, **auth).status_code == 422
