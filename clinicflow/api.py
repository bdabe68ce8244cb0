"""The REST API at /api/v1: one NinjaAPI, each app contributes a router. OpenAPI at /api/v1/openapi.json."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja import errors as ninja_errors
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

import clinicflow
from clinicflow.accounts.models import ApiToken, TokenScope, is_staff_member
from clinicflow.accounts.services import two_factor_step


class BearerToken(HttpBearer):
    """`Authorization: Bearer cf_...`: an integration acting as the token's user, within the token's scopes.

    The scope needed is `<area>:read` or `<area>:write`: the area is the first path segment after /api/v1/,
    reading is GET/HEAD/OPTIONS. A live token without it gets 403 naming the scope (it is known who asks, so
    not 401); a path outside the known areas is refused too, so a new router is closed until it has a scope.
    """

    def authenticate(self, request, token):
        api_token = ApiToken.authenticate(token)
        if api_token is None or not is_staff_member(api_token.user):
            return None
        area = request.path.removeprefix(reverse("api:api-root")).split("/", 1)[0]
        scope = TokenScope.needed(area=area, method=request.method)
        if area not in TokenScope.AREAS or not api_token.allows(scope):
            raise ninja_errors.HttpError(403, _("This token lacks the scope %(scope)s.") % {"scope": scope})
        request.user = api_token.user
        # For the access log: which token read what (request.user alone cannot tell two tokens apart).
        request.api_token = api_token
        return api_token.user


class StaffSession(SessionAuth):
    """The logged-in web UI (CSRF-checked by ninja)."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None or not is_staff_member(user):
            return None
        # The pages' rule: a session still owing its second factor (code or enrollment) reaches no data.
        return user if two_factor_step(request) is None else None


class UnsupportedMediaType(Exception):
    """A request body that does not say it is JSON."""


class JsonBodies(Parser):
    """Bodies are parsed only when they say they are JSON (any charset parameter).

    Reading a form post or plain text as JSON would accept things the client never meant as JSON.
    """

    def parse_body(self, request):
        if request.content_type.lower() != "application/json":
            raise UnsupportedMediaType(request.content_type)
        return super().parse_body(request)


class ClinicflowAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        _document_errors(schema)
        return schema


PROBLEM = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
VALIDATION_PROBLEM = {
    "type": "object", "required": ["detail"],
    "properties": {"detail": {"type": "array", "items": {
        "type": "object", "required": ["loc", "msg", "type"],
        "properties": {"loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                       "msg": {"type": "string"}, "type": {"type": "string"}}}}},
}
ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON", 401: "No valid token or session", 403: "Not allowed (or the CSRF check failed)",
    404: "Not found, or not visible to this user", 415: "The body is not sent as application/json",
    422: "Invalid input: each entry names its field", 429: "Too many requests",
}


def _document_errors(schema: dict) -> None:
    """Add the error answers each operation can really give, so clients (and schemathesis) know them."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Problem", PROBLEM)
    components["ValidationProblem"] = VALIDATION_PROBLEM
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            secured = bool(operation.get("security"))
            has_body = "requestBody" in operation
            names_an_object = any(p["in"] == "path" for p in operation.get("parameters", [])) or has_body
            codes = {422}
            if has_body:
                codes |= {400, 415}
            if secured:
                codes |= {401, 403}
            if secured and names_an_object:
                codes.add(404)
            for code in codes:
                body = "ValidationProblem" if code == 422 else "Problem"
                operation["responses"].setdefault(code, {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}})


api = ClinicflowAPI(
    title="clinicflow API",
    version=clinicflow.__version__,
    description="Patients, inquiries, cases, appointments and tasks of a clinicflow installation. "
    "Integrations authenticate with a bearer token (Django admin → API tokens); "
    "the same rules apply as in the web interface.",
    auth=[BearerToken(), StaffSession()],
    urls_namespace="api",
    parser=JsonBodies(),
)


@api.exception_handler(ninja_errors.HttpError)
def http_error(request, exc: ninja_errors.HttpError):
    # ninja turns any parser exception into a 400; a body that is not JSON at all deserves its own answer.
    if isinstance(exc.__cause__, UnsupportedMediaType):
        detail = _("Send the body as JSON with “Content-Type: application/json”.")
        return api.create_response(request, {"detail": detail}, status=415)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    """Service-level refusals, in the same shape as ninja's own request validation errors."""
    if hasattr(exc, "error_dict"):
        detail = [{"loc": ["body", field], "msg": msg, "type": "invalid"}
                  for field, messages in exc.message_dict.items() for msg in messages]
    else:
        detail = [{"loc": ["body"], "msg": msg, "type": "invalid"} for msg in exc.messages]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(ninja_errors.ValidationError)
def request_validation_error(request, exc: ninja_errors.ValidationError):
    """ninja's type errors, with the same field locations as ours: ["body", "phone"], not ["body", "payload", …]."""
    detail = []
    for error in exc.errors:
        loc = list(error.get("loc", []))
        if len(loc) > 1 and loc[0] == "body" and loc[1] == "payload":
            loc = ["body", *loc[2:]]
        detail.append({**error, "loc": loc})
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(request, {"detail": _("You may not do that.")}, status=403)


def _add_routers():
    from clinicflow.funnel.api import router as cases
    from clinicflow.inbox.api import public_router
    from clinicflow.inbox.api import router as inquiries
    from clinicflow.pages.api import router as patients
    from clinicflow.pages.public_booking import router as public_booking
    from clinicflow.scheduling.api import router as appointments
    from clinicflow.tasks.api import router as tasks

    api.add_router("/public", public_router)
    api.add_router("/public", public_booking)
    api.add_router("/patients", patients)
    api.add_router("/inquiries", inquiries)
    api.add_router("/cases", cases)
    api.add_router("/appointments", appointments)
    api.add_router("/tasks", tasks)


_add_routers()
