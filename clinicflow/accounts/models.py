import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
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


# Roles that read the aggregate reports (counts, never a patient's card).
REPORT_ROLES = frozenset({Role.MARKETER, Role.CLINIC_ADMIN, Role.FRONT_OFFICE_MANAGER})


class StaffMember(models.Model):
    """Which branches a member of staff works for. Clinic admins see every branch."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="staff",
                                verbose_name=_("user"))
    branches = models.ManyToManyField(Branch, related_name="staff", blank=True, verbose_name=_("branches"))
    # Empty: the clinic's default language (Settings → Clinic settings).
    language = models.CharField(_("interface language"), max_length=8, choices=settings.LANGUAGES, blank=True)

    class Meta:
        verbose_name = _("member of staff")
        verbose_name_plural = _("staff")

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


class TokenScope:
    """What a token may do: `<area>:read` or `<area>:write` per API area; write implies read.

    The areas are the authenticated routers of clinicflow/api.py (a test keeps the two lists equal);
    /api/v1/public needs no token, so it has no scope.
    """

    AREAS = ("patients", "inquiries", "cases", "appointments", "tasks")
    # Routers whose operations take another area's scopes: undoing a patient merge is a patient write.
    SHARED = {"patient-merges": "patients"}
    READ, WRITE = "read", "write"
    ALL = tuple(f"{area}:{level}" for area in AREAS for level in ("read", "write"))
    # Methods that only read; anything else (POST, PUT, PATCH, DELETE, ...) writes.
    READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    @classmethod
    def area_of(cls, segment: str) -> str:
        """The area of an API path's first segment."""
        return cls.SHARED.get(segment, segment)

    @classmethod
    def needed(cls, *, area: str, method: str) -> str:
        return f"{area}:{cls.READ if method.upper() in cls.READ_METHODS else cls.WRITE}"

    @classmethod
    def normalize(cls, scopes: Iterable[str]) -> list[str]:
        """The scopes sorted and without duplicates; ValueError naming any unknown one."""
        scopes = set(scopes)
        if not scopes:
            raise ValueError(_("A token needs at least one scope."))
        if unknown := scopes - set(cls.ALL):
            raise ValueError(_("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(sorted(unknown))})
        return [scope for scope in cls.ALL if scope in scopes]


class ApiTokenChangeRefused(Exception):
    """A revoked token was about to become active again, or an issued token to change hands, scopes or expiry."""


class ApiToken(models.Model):
    """A bearer token for an integration. It acts with the roles and branches of its user, within its scopes.

    After issue only its name and `last_used_at` change, and `revoke()` sets `revoked_at` once; save() and
    a trigger (migration 0004, for raw UPDATEs) refuse anything else.
    """

    PREFIX = "cf_"
    # A wider scope, a later expiry or another user means a new token (and a new key), never an edit.
    FIXED_AT_ISSUE = ("user_id", "key_hash", "scopes", "created_at", "expires_at")

    name = models.CharField(_("name"), max_length=120)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens",
                             verbose_name=_("user"))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("created_at")),
                                   name="apitoken_expires_after_creation"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The admin used to let anyone clear revoked_at or hand the token to another user; refuse both here
        # too, so that no form or script can bring a revoked key back or move a key between people.
        if self.pk is not None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values("revoked_at", *self.FIXED_AT_ISSUE).first()
            if stored and (any(stored[field] != getattr(self, field) for field in self.FIXED_AT_ISSUE)
                           or (stored["revoked_at"] is not None and self.revoked_at != stored["revoked_at"])):
                raise ApiTokenChangeRefused(
                    _("A token keeps its user, key, scopes and expiry, and a revocation is final."))
        super().save(*args, **kwargs)

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user, name: str, scopes: Iterable[str] = TokenScope.ALL,
              expires_at: datetime | None = None) -> tuple["ApiToken", str]:
        """Create a token; the clear key is returned once and only its hash is stored.

        `scopes` defaults to every scope for callers in code; the admin and `issue_token` make people choose.
        """
        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, key_hash=cls.hash(key), scopes=TokenScope.normalize(scopes),
                    expires_at=expires_at)
        token.full_clean()
        token.save()
        return token, key

    @classmethod
    def authenticate(cls, key: str) -> "ApiToken | None":
        """The live token with this key (not revoked, not expired, its user active), or None."""
        now = timezone.now()
        token = (cls.objects.select_related("user")
                 .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now),
                         key_hash=cls.hash(key), revoked_at__isnull=True, user__is_active=True)
                 .first())
        if token is None:
            return None
        cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token

    def allows(self, scope: str) -> bool:
        area, _sep, level = scope.partition(":")
        return scope in self.scopes or (level == TokenScope.READ and f"{area}:{TokenScope.WRITE}" in self.scopes)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def revoke(self) -> None:
        """Revoke for good. Revoking twice keeps the first time (the conditional UPDATE makes it race-free)."""
        self.__class__.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.refresh_from_db(fields=["revoked_at"])
