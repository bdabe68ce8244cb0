"""Who may import, and whose imports they see.

Importing creates patients and leads in bulk and declares the clinic's consents for them, so it is for
front-office managers and clinic admins (and superusers), not for every receptionist. An import's page
shows the file's rows: its importer sees it, and clinic admins, who answer for every branch.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from clinicflow import gates
from clinicflow.accounts.models import Role, user_roles

from .models import SpreadsheetImport

IMPORT_ROLES = frozenset({Role.FRONT_OFFICE_MANAGER, Role.CLINIC_ADMIN})


def may_import(user) -> bool:
    return gates.reads_patients(user) and (user.is_superuser or bool(user_roles(user) & IMPORT_ROLES))


def require_importer(user) -> None:
    if not may_import(user):
        raise PermissionDenied


def imports_visible_to(user) -> QuerySet:
    if not may_import(user):
        return SpreadsheetImport.objects.none()
    if user.is_superuser or Role.CLINIC_ADMIN in user_roles(user):
        return SpreadsheetImport.objects.all()
    return SpreadsheetImport.objects.filter(created_by=user)


def import_for_user(user, import_id) -> SpreadsheetImport:
    """403 for people who may not import; 404 for somebody else's import, so ids reveal nothing."""
    require_importer(user)
    try:
        return imports_visible_to(user).get(pk=import_id)
    except (SpreadsheetImport.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
