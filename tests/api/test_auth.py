"""Who may call the API: a bearer token acts as its user; the web UI's session works too."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from clinicflow.accounts.models import ApiToken

PATIENTS = "/api/v1/patients"

# Every endpoint that needs credentials, with a harmless request.
PROTECTED = [
    ("get", "/api/v1/patients"), ("get", "/api/v1/patients/1"), ("get", "/api/v1/inquiries"),
    ("post", "/api/v1/inquiries/1/take"), ("get", "/api/v1/cases"), ("get", "/api/v1/appointments"),
    ("get", "/api/v1/tasks"),
]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_it_answers_401_without_credentials(client, moscow, method, url):
    assert getattr(client, method)(url).status_code == 401


@pytest.mark.parametrize("header", [
    "Bearer cf_not-a-real-token", "Bearer ", "Basic cml0YTpwYXNz", "cf_token-without-scheme",
])
def test_it_answers_401_to_a_bad_authorization_header(client, ivan, header):
    response = client.get(PATIENTS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_it_accepts_a_valid_token(client, auth, ivan):
    response = client.get(PATIENTS, **auth)
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [ivan.pk]


def test_it_answers_401_to_a_revoked_token(client, receptionist, ivan):
    token, key = ApiToken.issue(user=receptionist, name="old website")
    token.revoked_at = datetime(2025, 1, 1, tzinfo=UTC)
    token.save()
    assert client.get(PATIENTS, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_it_answers_401_to_the_token_of_a_deactivated_user(client, receptionist, auth, ivan):
    receptionist.is_active = False
    receptionist.save()
    assert client.get(PATIENTS, **auth).status_code == 401


def test_it_answers_401_to_the_token_of_someone_who_is_not_staff(client, django_user_model, bearer, ivan):
    visitor = django_user_model.objects.create_user("visitor")
    assert client.get(PATIENTS, **bearer(visitor)).status_code == 401


def test_it_never_stores_the_clear_key(receptionist):
    token, key = ApiToken.issue(user=receptionist, name="website")
    assert key.startswith("cf_")
    assert key not in token.key_hash
    assert token.key_hash == ApiToken.hash(key)


@pytest.mark.time_machine(datetime(2025, 3, 12, 7, 0, tzinfo=UTC), tick=False)
def test_it_notes_when_a_token_was_last_used(client, receptionist, ivan):
    token, key = ApiToken.issue(user=receptionist, name="website")
    client.get(PATIENTS, HTTP_AUTHORIZATION=f"Bearer {key}")
    token.refresh_from_db()
    assert token.last_used_at == datetime(2025, 3, 12, 7, 0, tzinfo=UTC)


class TestTheTokenActsAsItsUser:
    def test_it_cannot_read_a_patient_of_another_branch(self, client, auth, nina):
        assert client.get(f"{PATIENTS}/{nina.pk}", **auth).status_code == 404

    def test_it_reads_a_patient_of_its_branch(self, client, auth, ivan):
        response = client.get(f"{PATIENTS}/{ivan.pk}", **auth)
        assert response.status_code == 200
        assert response.json()["full_name"] == "Ivan Petrov"

    def test_it_lists_only_its_branches(self, client, bearer, outsider, ivan, nina):
        assert [p["id"] for p in client.get(PATIENTS, **bearer(outsider)).json()] == [nina.pk]

    def test_a_clinic_admins_token_reads_every_branch(self, client, bearer, clinic_admin, ivan, nina):
        headers = bearer(clinic_admin)
        assert client.get(f"{PATIENTS}/{ivan.pk}", **headers).status_code == 200
        assert client.get(f"{PATIENTS}/{nina.pk}", **headers).status_code == 200

    def test_it_follows_the_users_branches_as_they_change(self, client, auth, receptionist, novosibirsk, nina):
        receptionist.staff.branches.add(novosibirsk)
        assert client.get(f"{PATIENTS}/{nina.pk}", **auth).status_code == 200


class TestSession:
    def test_the_logged_in_web_user_can_call_the_api(self, rita_client, ivan, nina):
        response = rita_client.get(PATIENTS)
        assert response.status_code == 200
        assert [p["id"] for p in response.json()] == [ivan.pk]

    def test_the_session_keeps_the_branch_restriction(self, rita_client, nina):
        assert rita_client.get(f"{PATIENTS}/{nina.pk}").status_code == 404

    def test_a_logged_in_user_who_is_not_staff_gets_401(self, django_user_model, ivan):
        client = Client()
        client.force_login(django_user_model.objects.create_user("visitor"))
        assert client.get(PATIENTS).status_code == 401

    def test_a_session_write_needs_the_csrf_token(self, receptionist, moscow):
        client = Client(enforce_csrf_checks=True)
        client.force_login(receptionist)
        assert client.post("/api/v1/inquiries/1/take").status_code == 403

    def test_a_token_write_needs_no_csrf_token(self, auth, moscow):
        client = Client(enforce_csrf_checks=True)
        assert client.post("/api/v1/inquiries/999999/take", **auth).status_code == 404


def test_the_public_inquiry_endpoint_needs_no_credentials(client, moscow):
    response = client.post("/api/v1/public/inquiries", {"phone": "+79161234567", "consent": True},
                           content_type="application/json")
    assert response.status_code == 201
