"""A token reaches an API area only within its scopes: `<area>:read` for GET/HEAD/OPTIONS, `<area>:write` else."""

import pytest
from django.test import RequestFactory
from ninja.errors import HttpError

from clinicflow.accounts.models import ApiToken, TokenScope
from clinicflow.api import BearerToken, api

# One harmless request per area and kind. Writes name a missing object: allowed means 404/422, never 401/403.
READS = {area: f"/api/v1/{area}" for area in TokenScope.AREAS}
WRITES = {"inquiries": "/api/v1/inquiries/999999/take", "cases": "/api/v1/cases/999999/moves",
          "appointments": "/api/v1/appointments/999999/status", "tasks": "/api/v1/tasks/999999/done"}


@pytest.fixture
def scoped(receptionist):
    """The Authorization header of a token of the receptionist with exactly these scopes."""

    def scoped(*scopes: str) -> dict:
        _token, key = ApiToken.issue(user=receptionist, name="scoped", scopes=scopes)
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    return scoped


def every_scope_but(area: str) -> list[str]:
    return [scope for scope in TokenScope.ALL if not scope.startswith(f"{area}:")]


@pytest.mark.parametrize("area", TokenScope.AREAS)
class TestTheScopeMatrix:
    def test_read_scope_reads(self, client, scoped, area):
        assert client.get(READS[area], **scoped(f"{area}:read")).status_code == 200

    def test_write_scope_reads_too(self, client, scoped, area):
        assert client.get(READS[area], **scoped(f"{area}:write")).status_code == 200

    def test_other_areas_scopes_do_not_read_this_one(self, client, scoped, area):
        response = client.get(READS[area], **scoped(*every_scope_but(area)))
        assert response.status_code == 403
        assert response.json() == {"detail": f"This token lacks the scope {area}:read."}



# /api/v1/patients has no write operation yet; test_every_method_but_get_head_options_needs_write covers it.
@pytest.mark.parametrize("area", WRITES)
class TestWrites:
    def test_read_scope_does_not_write(self, client, scoped, area):
        response = client.post(WRITES[area], {}, content_type="application/json", **scoped(f"{area}:read"))
        assert response.status_code == 403
        assert response.json() == {"detail": f"This token lacks the scope {area}:write."}

    def test_write_scope_writes(self, client, scoped, area, moscow):
        response = client.post(WRITES[area], {}, content_type="application/json", **scoped(f"{area}:write"))
        assert response.status_code in (404, 422)

    def test_other_areas_write_scopes_do_not_write_here(self, client, scoped, area):
        response = client.post(WRITES[area], {}, content_type="application/json", **scoped(*every_scope_but(area)))
        assert response.status_code == 403


@pytest.mark.parametrize(("method", "needed"), [("get", "patients:read"), ("head", "patients:read"),
                                                ("options", "patients:read"), ("post", "patients:write"),
                                                ("put", "patients:write"), ("patch", "patients:write"),
                                                ("delete", "patients:write")])
def test_every_method_but_get_head_options_needs_write(receptionist, method, needed):
    """Checked on the authentication itself: ninja answers HEAD and unknown methods with 405 before it."""
    _token, key = ApiToken.issue(user=receptionist, name="nothing for patients", scopes=every_scope_but("patients"))
    request = getattr(RequestFactory(), method)("/api/v1/patients/1")
    with pytest.raises(HttpError) as refused:
        BearerToken().authenticate(request, key)
    assert refused.value.status_code == 403 and needed in str(refused.value)


def test_a_path_outside_the_known_areas_is_refused(receptionist):
    """A router added later stays closed to tokens until it has a scope."""
    _token, key = ApiToken.issue(user=receptionist, name="everything")
    with pytest.raises(HttpError) as refused:
        BearerToken().authenticate(RequestFactory().get("/api/v1/invoices"), key)
    assert refused.value.status_code == 403


def test_the_areas_are_exactly_the_routers_that_need_credentials():
    schema = api.get_openapi_schema()
    protected = {TokenScope.area_of(path.removeprefix("/api/v1/").split("/")[0])
                 for path, operations in schema["paths"].items()
                 for operation in operations.values() if operation.get("security")}
    assert protected == set(TokenScope.AREAS)


def test_the_public_endpoint_ignores_a_token_without_scopes_for_it(client, scoped, moscow):
    response = client.post("/api/v1/public/inquiries", {"phone": "+79161234567", "consent": True},
                           content_type="application/json", **scoped("tasks:read"))
    assert response.status_code == 201


def test_a_missing_scope_is_403_even_before_the_object_is_looked_up(client, scoped, ivan):
    """The answer must not tell a token without patients:read whether patient #1 exists."""
    headers = scoped("tasks:read")
    assert client.get(f"/api/v1/patients/{ivan.pk}", **headers).status_code == 403
    assert client.get("/api/v1/patients/999999", **headers).status_code == 403


def test_a_wrong_key_is_still_401_not_403(client, ivan):
    response = client.get("/api/v1/patients", HTTP_AUTHORIZATION="Bearer cf_no-such-key")
    assert response.status_code == 401
