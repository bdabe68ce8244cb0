import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch


class Role(models.TextChoices):
    """Staff roles. Each is a Django group of the same name, created by a migration."""

    RECEPTIONIST = "receptionist", _("Receptionist")
    FRONT_OFFICE_MANAGER = "front_office_manager", _("Front-office manager")
    CLINIC_ADMIN = "clinic_admin", _("Clinic admin")
    MARKETER = "marketer", _("Marketer")
    COMPLIANCE_OFFICER = "compliance_officer", _("Compliance officer")


class StaffMember(models.Model):
    """Which branches a member of staff works for. Clinic admins see every branch."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="staff")
    branches = models.ManyToManyField(Branch, related_name="staff", blank=True)

    def __str__(self):
        return str(self.user)


def user_roles(user) -> set[str]:
    if not user.is_authenticated or not user.is_active:
        return set()
    if not hasattr(user, "_clinicflow_roles"):
        user._clinicflow_roles = set(user.groups.values_list("name", flat=True)) & set(Role.values)
    return user._clinicflow_roles


def user_branch_ids(user) -> set[int] | None:
    """The branches a user may see; None means all of them (superusers and clinic admins)."""
    if user.is_superuser or Role.CLINIC_ADMIN in user_roles(user):
        return None
    if not hasattr(user, "_clinicflow_branch_ids"):
        user._clinicflow_branch_ids = set(
            Branch.objects.filter(staff__user=user).values_list("id", flat=True))
    return user._clinicflow_branch_ids


def is_staff_member(user) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user_roles(user)))


class ApiToken(models.Model):
    """A bearer token for an integration. It acts with the roles and branches of its user."""

    PREFIX = "cf_"

    name = models.CharField(_("name"), max_length=120)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user, name: str) -> tuple["ApiToken", str]:
        """Create a token; the clear key is returned once and only its hash is stored."""
        key = cls.PREFIX + secrets.token_urlsafe(32)
        return cls.objects.create(user=user, name=name, key_hash=cls.hash(key)), key

    @classmethod
    def authenticate(cls, key: str):
        token = (cls.objects.select_related("user")
                 .filter(key_hash=cls.hash(key), revoked_at__isnull=True, user__is_active=True).first())
        if token is None:
            return None
        cls.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user
