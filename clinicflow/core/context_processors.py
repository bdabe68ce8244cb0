from clinicflow.accounts.models import Role, is_staff_member, user_roles


def workspace(request):
    """What the navigation bar needs on every page."""
    user = getattr(request, "user", None)
    if user is None or not is_staff_member(user):
        return {}
    return {"role_labels": [Role(r).label for r in sorted(user_roles(user))]}
