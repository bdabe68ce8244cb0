"""/api/v1/openapi.json describes the API for integrators."""

import pytest

EXPECTED_PATHS = {
    "/api/v1/public/inquiries", "/api/v1/patients", "/api/v1/patients/{patient_id}", "/api/v1/inquiries",
    "/api/v1/inquiries/{inquiry_id}", "/api/v1/inquiries/{inquiry_id}/take", "/api/v1/inquiries/{inquiry_id}/responses",
    "/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/cases/{case_id}/moves", "/api/v1/appointments",
    "/api/v1/tasks", "/api/v1/tasks/{task_id}/done",
}


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_it_is_served_without_credentials(schema):
    assert schema["info"]["title"] == "clinicflow API"


def test_it_lists_the_paths(schema):
    assert EXPECTED_PATHS <= set(schema["paths"])


def test_it_documents_bearer_authentication(schema):
    schemes = schema["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["BearerToken"].items()


def test_the_public_endpoint_asks_for_no_credentials(schema):
    assert "security" not in schema["paths"]["/api/v1/public/inquiries"]["post"]
    assert "security" in schema["paths"]["/api/v1/patients"]["get"]


def test_it_describes_the_inquiry_form_fields(schema):
    fields = schema["components"]["schemas"]["InquiryIn"]["properties"]
    assert {"name", "phone", "consent", "branch_id", "request_id", "utm_source"} <= set(fields)
