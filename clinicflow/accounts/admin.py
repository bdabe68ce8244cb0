from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from .models import ApiToken, StaffMember


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
