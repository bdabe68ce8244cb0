"""Input found by fuzzing the OpenAPI schema: every one is a 422 naming the field, never a 500."""

import pytest

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
