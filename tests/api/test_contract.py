"""Property-based contract test: generated requests for every operation of the OpenAPI schema.

Whatever schemathesis sends, with a clinic admin's token or with no credentials at all, the API passes every
check schemathesis runs by default: no server error, only documented status codes, content types and
bodies, schema-valid input accepted, schema-invalid input refused, missing credentials refused, unknown
methods answered with 405. (A longer run against a live server is described in docs/integration.md.)
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData

from clinicflow.accounts.models import ApiToken
from clinicflow.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
FUZZ = settings(max_examples=10, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])


def refused_by_a_business_rule(response) -> bool:
    """A 422 that only our services give (type "invalid"): the input had the published shape, but a rule
    JSON Schema cannot express refused it: a phone number that is not in any numbering plan, a stage the
    case cannot move to from where it is, a slot outside the doctor's hours. Any refusal by the request
    parser (a pydantic type such as "string_too_long" or "text_nul") still fails positive_data_acceptance:
    that would be a constraint the schema hides."""
    if response.status_code != 422:
        return False
    detail = response.json()["detail"]
    return bool(detail) and all(error["type"] == "invalid" for error in detail)


def call_and_validate(case, headers: dict) -> None:
    response = case.call(headers=headers)
    try:
        case.validate_response(response, headers=headers)
    except FailureGroup as group:
        # Only positive_data_acceptance may be excused, and only for a business-rule refusal.
        if not refused_by_a_business_rule(response) or any(
                not isinstance(failure, RejectedPositiveData) for failure in group.exceptions):
            raise


@pytest.fixture
def in_test_transaction():
    """Requests go straight to the WSGI app, not through Django's test client, so do what it does: keep
    the test's database connection open across requests (Django closes it after each request, which on
    PostgreSQL would end the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def unthrottled(settings):
    """The public endpoint's rate limit would answer most generated inquiries with 429 and hide them."""
    settings.CLINICFLOW_PUBLIC_RATE_LIMIT = 10**6


@pytest.fixture
def admin_token(clinic_admin, ivan, moscow, doctor, in_test_transaction, unthrottled) -> str:
    return ApiToken.issue(user=clinic_admin, name="contract")[1]


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_every_operation_keeps_its_contract_for_a_clinic_admin(case, admin_token):
    call_and_validate(case, {"Authorization": f"Bearer {admin_token}"})


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_every_operation_keeps_its_contract_without_credentials(case, ivan, moscow, doctor, in_test_transaction,
                                                                unthrottled):
    call_and_validate(case, {})
