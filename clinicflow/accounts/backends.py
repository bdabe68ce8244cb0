"""Settings permissions that follow from a person's role, so nobody ticks boxes in a raw permission list.

A clinic admin keeps the clinic's reference data (branches and their hours, specialties, services,
doctors, the intake script, message templates, clinic settings). Staff and API tokens stay with superusers:
the user pages can change anyone's password, a superuser's included. Other roles have no Settings at all.
"""

from django.contrib.auth.backends import BaseBackend

from .models import Role, user_roles

_ALL = ("view", "add", "change", "delete")
# app label → model → actions. A branch is not deleted by a clinic admin: it carries the patients' history.
REFERENCE_DATA = {
    "clinic": {"branch": ("view", "add", "change"), "workinghours": _ALL, "closedday": _ALL, "specialty": _ALL,
               "service": _ALL, "doctor": _ALL, "clinicsettings": ("view", "change")},
    "funnel": {"intakequestion": _ALL, "lostreason": _ALL},
    "messaging": {"messagetemplate": _ALL},
    # What the MIS sync mirrors and what it could not map: read here, written only by the sync.
    "mis": {"misschedule": ("view",), "unmappedmisstatus": ("view",)},
    "scheduling": {"doctorhours": _ALL, "doctordayoff": _ALL},
}
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CLINIC_ADMIN: frozenset(f"{app}.{action}_{model}" for app, models in REFERENCE_DATA.items()
                                 for model, actions in models.items() for action in actions),
}


class RolePermissionBackend(BaseBackend):
    """Grants each role's Settings permissions; authenticates nobody (ModelBackend and axes do that)."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if obj is not None or not user_obj.is_active:
            return set()
        return set().union(*(ROLE_PERMISSIONS.get(role, ()) for role in user_roles(user_obj)))

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        return any(perm.startswith(f"{app_label}.") for perm in self.get_all_permissions(user_obj))


def settings_role(role: str) -> bool:
    """Does this role reach Settings (staff status)?"""
    return role in ROLE_PERMISSIONS
