from clinicflow import gates
from clinicflow.accounts.models import REPORT_ROLES, Role, is_staff_member, user_roles


def workspace(request):
    """What the navigation bar needs on every page: the user's roles and which sections they may open."""
    user = getattr(request, "user", None)
    if user is None or not is_staff_member(user):
        return {}
    roles = user_roles(user)
    return {"role_labels": [Role(r).label for r in sorted(roles)],
            "nav_patients": gates.reads_patients(user),
            "nav_access_log": user.is_superuser or Role.COMPLIANCE_OFFICER in roles,
            "nav_reports": user.is_superuser or bool(roles & REPORT_ROLES),
            "nav_robots": user.is_superuser or Role.CLINIC_ADMIN in roles}
