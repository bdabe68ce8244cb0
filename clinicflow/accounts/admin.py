from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext_lazy as _

from clinicflow.core.admin import CountsOnlyOnDelete

from .decorators import two_factor_redirect
from .models import ApiToken, Role, StaffMember, TokenScope
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


# Staff membership (branches) is edited on the user's own page, next to the roles (groups).
class StaffMemberInline(admin.StackedInline):
    model = StaffMember
    can_delete = False
    filter_horizontal = ["branches"]
    verbose_name_plural = _("Branches this person works for")


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(CountsOnlyOnDelete, UserAdmin):
    inlines = [StaffMemberInline]
    list_display = ["username", "first_name", "last_name", "is_active", "is_superuser"]
    list_filter = ["groups", "is_active", "is_superuser"]


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
