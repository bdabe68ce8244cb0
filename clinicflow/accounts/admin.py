from django.contrib import admin, messages

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
