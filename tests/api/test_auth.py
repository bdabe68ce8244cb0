"""Who may call the API: a bearer token acts as its user; the web UI's session works too."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client, RequestFactory

from clinicflow.accounts.models import ApiToken
from clinicflow.api import BearerToken

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


def test_it_answers_401_to_a_token_revoked_through_the_model(client, receptionist, ivan):
    token, key = ApiToken.issue(user=receptionist, name="old website")
    token.revoke()
    response = client.get(PATIENTS, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


class TestExpiry:
    NOW = datetime(2025, 3, 12, 7, 0, tzinfo=UTC)

    @pytest.fixture
    def month_token(self, receptionist) -> str:
        with time_machine.travel(self.NOW, tick=False):
            return ApiToken.issue(user=receptionist, name="trial", expires_at=self.NOW + timedelta(days=30))[1]

    def test_it_works_until_it_expires(self, client, month_token, ivan):
        with time_machine.travel(self.NOW + timedelta(days=30) - timedelta(seconds=1), tick=False):
            assert client.get(PATIENTS, HTTP_AUTHORIZATION=f"Bearer {month_token}").status_code == 200

    def test_it_answers_401_from_the_moment_it_expires(self, client, month_token, ivan):
        with time_machine.travel(self.NOW + timedelta(days=30), tick=False):
            response = client.get(PATIENTS, HTTP_AUTHORIZATION=f"Bearer {month_token}")
        assert response.status_code == 401
        assert response.json() == {"detail": "Unauthorized"}

    def test_an_expired_token_is_not_marked_as_used(self, client, receptionist, month_token, ivan):
        with time_machine.travel(self.NOW + timedelta(days=31), tick=False):
            client.get(PATIENTS, HTTP_AUTHORIZATION=f"Bearer {month_token}")
        assert ApiToken.objects.get().last_used_at is None

    def test_a_token_without_expiry_keeps_working(self, client, receptionist, ivan):
        _token, key = ApiToken.issue(user=receptionist, name="forever", expires_at=None)
        with time_machine.travel(datetime(2035, 1, 1, tzinfo=UTC), tick=False):
            assert client.get(PATIENTS, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


class TestWhatTheRequestCarries:
    """The access log records which token read what: the request names the token, and acts as its user."""

    def test_a_bearer_request_carries_the_token_and_its_user(self, receptionist):
        token, key = ApiToken.issue(user=receptionist, name="website")
        request = RequestFactory().get(PATIENTS)
        assert BearerToken().authenticate(request, key) == receptionist  # ninja puts this in request.auth
        assert request.api_token == token
        assert request.user == receptionist

    def test_a_refused_token_leaves_the_request_alone(self, receptionist):
        token, key = ApiToken.issue(user=receptionist, name="website")
        token.revoke()
        request = RequestFactory().get(PATIENTS)
        assert BearerToken().authenticate(request, key) is None
        assert not hasattr(request, "api_token")

    def test_the_api_sees_the_tokens_user_as_request_auth(self, client, receptionist, ivan):
        _token, key = ApiToken.issue(user=receptionist, name="website")
        response = client.get(PATIENTS, HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.wsgi_request.auth == receptionist
        assert response.wsgi_request.user == receptionist
        assert response.wsgi_request.api_token.name == "website"


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
