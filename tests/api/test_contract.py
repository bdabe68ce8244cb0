"""Property-based contract test: generated requests for every operation of the OpenAPI schema.

Whatever schemathesis sends, the API answers without a server error and with a body that matches the
schema it publishes. (A longer run against a live server is described in docs/integration.md.)
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from clinicflow.accounts.models import ApiToken
from clinicflow.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


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
def admin_token(clinic_admin, ivan, moscow, doctor, in_test_transaction) -> str:
    return ApiToken.issue(user=clinic_admin, name="contract")[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_operation_keeps_its_contract(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"},
                           checks=[not_a_server_error, response_schema_conformance])
