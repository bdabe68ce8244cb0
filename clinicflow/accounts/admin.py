from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.urls import reverse

from .decorators import two_factor_redirect
from .models import ApiToken, StaffMember
from .services import two_factor_step


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["user"]
    filter_horizontal = ["branches"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "user", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, key = ApiToken.issue(user=obj.user, name=obj.name)
        obj.pk = token.pk
        messages.warning(request, f"Copy the token now, it is not shown again: {key}")


# Staff membership (branches) is edited on the user's own page, next to the roles (groups).
class StaffMemberInline(admin.StackedInline):
    model = StaffMember
    can_delete = False
    filter_horizontal = ["branches"]
    verbose_name_plural = "Branches this person works for"


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
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
