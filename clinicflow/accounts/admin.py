from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import password_validation
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.encoding import force_bytes
from django.utils.html import format_html_join
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clinicflow.clinic.models import Branch
from clinicflow.core.admin import CountsOnlyOnDelete

from .backends import settings_role
from .decorators import two_factor_redirect
from .models import ApiToken, Role, StaffMember, TokenScope, user_roles
from .services import two_factor_step


@admin.register(StaffMember)
class StaffMemberAdmin(CountsOnlyOnDelete):
    list_display = ["user"]
    filter_horizontal = ["branches"]


class ApiTokenIssueForm(forms.ModelForm):
    """The add form: who, what for, which scopes and how long. Nothing of a token is editable afterwards."""

    LIFETIMES = [("30", _("30 days")), ("90", _("90 days")), ("365", _("365 days")), ("", _("Never"))]

    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=[(scope, scope) for scope in TokenScope.ALL],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Reading is GET; anything else writes. Write includes read. Give only what the integration needs."))
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires"), choices=LIFETIMES, coerce=int, empty_value=None, required=False, initial="90")

    class Meta:
        model = ApiToken
        fields = ["name", "user"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A token of anyone else would be refused on every call (the API serves staff only).
        self.fields["user"].queryset = (
            User.objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(groups__name__in=Role.values))
            .distinct().order_by("username"))

    def clean_scopes(self) -> list[str]:
        return TokenScope.normalize(self.cleaned_data["scopes"])


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Issue, look at and revoke tokens. There is no edit: a change of user, scope or expiry is a new token."""

    list_display = ["name", "user", "scope_list", "status", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username"]
    actions = ["revoke_selected"]
    change_form_template = "admin/accounts/apitoken/change_form.html"
    readonly_fields = ["name", "user", "scope_list", "status", "created_at", "expires_at", "last_used_at",
                       "revoked_at"]

    def get_fields(self, request, obj=None):
        return ["name", "user", "scopes", "expires_in_days"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        return ApiTokenIssueForm if obj is None else super().get_form(request, obj, change, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        # Read-only for everyone: this is what stops clearing revoked_at or moving a token to another user.
        return False

    def has_revoke_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.display(description=_("scopes"))
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes)

    @admin.display(description=_("status"))
    def status(self, token: ApiToken) -> str:
        if token.revoked_at:
            return _("revoked")
        return _("expired") if token.is_expired else _("active")

    def save_model(self, request, obj, form, change):
        days = form.cleaned_data["expires_in_days"]
        token, key = ApiToken.issue(
            user=obj.user, name=obj.name, scopes=form.cleaned_data["scopes"],
            expires_at=timezone.now() + timedelta(days=days) if days else None)
        obj.pk, obj._state.adding = token.pk, False
        # Handed to response_add on this object only: never a message (a cookie), the session or a log.
        obj.issued = token, key

    def response_add(self, request, obj, post_url_continue=None):
        """Answer the POST itself with the key, once; a redirect would need to carry it somewhere."""
        token, key = obj.issued
        context = {**self.admin_site.each_context(request), "opts": self.opts, "token": token, "key": key,
                   "title": _("Copy the key now")}
        response = TemplateResponse(request, "admin/accounts/apitoken/issued.html", context)
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True)
        return response

    @admin.action(description=_("Revoke the selected tokens (for good)"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            token.revoke()
        self.message_user(request, _("Revoked. A revoked token cannot be restored; issue a new one if needed."))

    def get_urls(self):
        revoke = path("<path:object_id>/revoke/", self.admin_site.admin_view(self.revoke_view),
                      name=f"{self.opts.app_label}_{self.opts.model_name}_revoke")
        return [revoke, *super().get_urls()]

    def revoke_view(self, request, object_id):
        """The button on a token's page (POST only): revoke it, then show it again."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        token = self.get_object(request, object_id)
        if token is None or not self.has_revoke_permission(request, token):
            raise PermissionDenied
        token.revoke()
        self.message_user(request, _("Token “%(name)s” revoked.") % {"name": token.name})
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", token.pk)


# The full user form (superusers only, ?full=1) keeps the branches inline, next to groups and permissions.
class StaffMemberInline(admin.StackedInline):
    model = StaffMember
    can_delete = False
    filter_horizontal = ["branches"]
    verbose_name_plural = _("Branches this person works for")


class StaffForm(forms.ModelForm):
    """A member of staff as a clinic thinks of one: name, log-in, one role, branches. No permission list."""

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, widget=forms.RadioSelect)
    branches = forms.ModelMultipleChoiceField(
        Branch.objects.all(), label=_("Branches"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Where this person works. A clinic admin works for every branch."))

    class Meta:
        model = User
        fields = ["first_name", "last_name", "username"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.instance
        if user.pk:
            roles = user_roles(user)
            self.fields["role"].initial = next((role for role in Role.values if role in roles), None)
            self.fields["branches"].initial = list(Branch.objects.filter(staff__user=user).values_list("pk", flat=True))
        for name in ("first_name", "last_name"):
            if name in self.fields:  # a view-only visitor's form has no model fields
                self.fields[name].required = True

    def clean(self):
        cleaned = super().clean()
        # Receptionists and managers see only their branches' patients: without one they would see nothing.
        if cleaned.get("role") in (Role.RECEPTIONIST, Role.FRONT_OFFICE_MANAGER) and not cleaned.get("branches"):
            self.add_error("branches", _("Choose the branches this person works for."))
        return cleaned

    def save(self, commit=True):
        user = super().save(commit=False)
        # Settings follow from the role (accounts/backends.py): a clinic admin gets in, other roles do not.
        user.is_staff = user.is_superuser or settings_role(self.cleaned_data["role"])
        if commit:
            user.save()
            self._save_m2m()
        return user

    def _save_m2m(self):
        super()._save_m2m()
        user, role = self.instance, self.cleaned_data["role"]
        # One role per person here; groups that are no role (none by default) are kept.
        user.groups.remove(*Group.objects.filter(name__in=Role.values).exclude(name=role))
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        staff, _created = StaffMember.objects.get_or_create(user=user)
        staff.branches.set(self.cleaned_data["branches"])


class StaffAddForm(StaffForm):
    """The onboarding form: the staff form plus how the person gets their first password."""

    INVITE, PASSWORD = "invite", "password"
    access = forms.ChoiceField(label=_("First log-in"), widget=forms.RadioSelect, initial=INVITE)
    password1 = forms.CharField(label=_("Initial password"), required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("Initial password again"), required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Worded per form, not at import: a lazy string formatted in the class body froze in the language
        # active at start-up, and a count needs the plural of the viewer's language.
        days = settings.PASSWORD_RESET_TIMEOUT // 86400
        self.fields["access"].choices = [
            (self.INVITE, ngettext(
                "Invitation link: they choose their own password (the link works once, for %(days)d day)",
                "Invitation link: they choose their own password (the link works once, for %(days)d days)",
                days) % {"days": days}),
            (self.PASSWORD, _("Initial password that I give them"))]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("access") != self.PASSWORD:
            return cleaned
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if not password1:
            self.add_error("password1", _("Type the initial password, or choose the invitation link."))
        elif password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        else:
            try:
                password_validation.validate_password(password1, self.instance)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data["access"] == self.PASSWORD:
            user.set_password(self.cleaned_data["password1"])
        else:
            user.set_unusable_password()
        if commit:
            user.save()
            self._save_m2m()
        return user


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(CountsOnlyOnDelete, UserAdmin):
    """Settings → Users: the staff form for everyone; the full Django user form for superusers (?full=1)."""

    add_form = StaffAddForm
    add_fieldsets = [(None, {"fields": ["first_name", "last_name", "username", "role", "branches"]}),
                     (_("First log-in"), {"fields": ["access", "password1", "password2"]})]
    staff_fieldsets = [(None, {"fields": ["first_name", "last_name", "username", "is_active", "role", "branches"]}),
                       (_("Log-in"), {"fields": ["log_in"]})]
    readonly_fields = ["log_in"]
    list_display = ["username", "first_name", "last_name", "role_names", "branch_names", "is_active"]
    list_filter = ["groups", "is_active", "is_superuser"]

    def full_form(self, request, obj) -> bool:
        return obj is not None and request.user.is_superuser and request.GET.get("full") == "1"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None or self.full_form(request, obj):
            return super().get_form(request, obj, **kwargs)
        kwargs["form"] = StaffForm
        kwargs["fields"] = ["first_name", "last_name", "username", "is_active", "role", "branches"]
        return admin.ModelAdmin.get_form(self, request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None or self.full_form(request, obj):
            return super().get_fieldsets(request, obj)
        if not self.has_change_permission(request, obj):
            return [(None, {"fields": ["first_name", "last_name", "username", "is_active", "role_names",
                                       "branch_names"]})]
        return self.staff_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None or self.full_form(request, obj):
            return []
        return self.readonly_fields if self.has_change_permission(request, obj) else ["role_names", "branch_names"]

    def get_inlines(self, request, obj):
        return [StaffMemberInline] if self.full_form(request, obj) else []

    @admin.display(description=_("log-in"))
    def log_in(self, user: User) -> str:
        links = [(reverse("admin:auth_user_password_change", args=[user.pk]), _("Set a new password"))]
        if user.pk:
            links.append((f"{reverse('admin:auth_user_change', args=[user.pk])}?full=1",
                          _("Full user form (superusers)")))
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description=_("role"))
    def role_names(self, user: User) -> str:
        return ", ".join(str(Role(role).label) for role in Role.values if role in user_roles(user))

    @admin.display(description=_("branches"))
    def branch_names(self, user: User) -> str:
        staff = getattr(user, "staff", None)
        return ", ".join(branch.name for branch in staff.branches.all()) if staff else ""

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups", "staff__branches")

    def response_add(self, request, obj, post_url_continue=None):
        """An invitation is shown once, on the answer to the POST itself; a redirect would have to carry it."""
        if obj.has_usable_password() or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        link = request.build_absolute_uri(reverse("accounts:set_password", kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(obj.pk)), "token": default_token_generator.make_token(obj)}))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "staff_user": obj, "link": link,
                   "days": settings.PASSWORD_RESET_TIMEOUT // 86400, "title": _("Copy the invitation link now")}
        response = TemplateResponse(request, "admin/auth/user/invited.html", context)
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True)
        return response


# The admin follows the pages' two-factor rule. The default site's methods are wrapped here rather than
# replaced by an AdminSite subclass, which would mean swapping "django.contrib.admin" in INSTALLED_APPS.
_admin_has_permission = admin.site.has_permission
_admin_login = admin.site.login


def _has_permission(request) -> bool:
    return _admin_has_permission(request) and two_factor_step(request) is None


def _login(request, extra_context=None):
    """A logged-in session that owes its code goes to the code page, not to a second password form."""
    step = two_factor_step(request) if request.user.is_authenticated else None
    if step is not None:
        return two_factor_redirect(request, step, request.GET.get("next") or reverse("admin:index"))
    return _admin_login(request, extra_context)


admin.site.has_permission = _has_permission
admin.site.login = _login
