"""/api/v1/openapi.json describes the API for integrators."""

import pytest

EXPECTED_PATHS = {
    "/api/v1/public/inquiries", "/api/v1/patients", "/api/v1/patients/{patient_id}", "/api/v1/inquiries",
    "/api/v1/inquiries/{inquiry_id}", "/api/v1/inquiries/{inquiry_id}/take", "/api/v1/inquiries/{inquiry_id}/responses",
    "/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/cases/{case_id}/moves", "/api/v1/appointments",
    "/api/v1/tasks", "/api/v1/tasks/{task_id}/done", "/api/v1/tasks/{task_id}/reopen",
    "/api/v1/tasks/{task_id}/reschedule", "/api/v1/tasks/{task_id}/reassign",
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


def test_every_operation_lists_the_errors_it_can_give(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert "422" in codes, (method, path)
            if "security" in operation:
                assert {"401", "403"} <= codes, (method, path)
            if "requestBody" in operation:
                assert {"400", "415"} <= codes, (method, path)
    assert "429" in schema["paths"]["/api/v1/public/inquiries"]["post"]["responses"]
    assert "404" in schema["paths"]["/api/v1/patients/{patient_id}"]["get"]["responses"]


def test_it_publishes_the_value_ranges(schema):
    fields = schema["components"]["schemas"]["InquiryIn"]["properties"]
    assert fields["name"]["maxLength"] == 160
    assert fields["name"]["pattern"] == "^[^\\x00]*$"
    assert fields["consent"] == {"const": True, "type": "boolean", "title": "Consent",
                                 "description": "Consent to the processing of personal data (required)"}
    assert "consent" in schema["components"]["schemas"]["InquiryIn"]["required"]
    search = schema["paths"]["/api/v1/patients"]["get"]["parameters"][0]["schema"]
    assert search["maxLength"] == 200
