"""The REST API at /api/v1: one NinjaAPI, each app contributes a router. OpenAPI at /api/v1/openapi.json."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja import errors as ninja_errors
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


api = NinjaAPI(
    title="clinicflow API",
    version=clinicflow.__version__,
    description="Patients, inquiries, cases, appointments and tasks of a clinicflow installation. "
    "Integrations authenticate with a bearer token (Django admin → API tokens); "
    "the same rules apply as in the web interface.",
    auth=[BearerToken(), StaffSession()],
    urls_namespace="api",
)


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
    return api.create_response(request, {"detail": "You may not do that."}, status=403)


def _add_routers():
    from clinicflow.funnel.api import router as cases
    from clinicflow.inbox.api import public_router
    from clinicflow.inbox.api import router as inquiries
    from clinicflow.pages.api import router as patients
    from clinicflow.scheduling.api import router as appointments
    from clinicflow.tasks.api import router as tasks

    api.add_router("/public", public_router)
    api.add_router("/patients", patients)
    api.add_router("/inquiries", inquiries)
    api.add_router("/cases", cases)
    api.add_router("/appointments", appointments)
    api.add_router("/tasks", tasks)


_add_routers()
