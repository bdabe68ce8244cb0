from clinicflow.accounts.models import Role, is_staff_member, user_roles


def workspace(request):
    """What the navigation bar needs on every page."""
    user = getattr(request, "user", None)
    if user is None or not is_staff_member(user):
        return {}
    roles = user_roles(user)
    return {
        "is_manager": user.is_superuser or bool(roles & {Role.FRONT_OFFICE_MANAGER, Role.CLINIC_ADMIN}),
        "role_labels": [Role(r).label for r in sorted(roles)],
    }
