"""Property-based contract test: generated requests for every operation of the OpenAPI schema.

Whatever schemathesis sends, the API answers without a server error and with a body that matches the
schema it publishes. (A longer run against a live server is described in docs/integration.md.)
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from clinicflow.accounts.models import ApiToken
from clinicflow.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def admin_token(clinic_admin, ivan, moscow, doctor) -> str:
    return ApiToken.issue(user=clinic_admin, name="contract")[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_operation_keeps_its_contract(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"},
                           checks=[not_a_server_error, response_schema_conformance])
