from django.contrib import admin

from .models import Job, JobAttempt, WorkerHeartbeat


class JobAttemptInline(admin.TabularInline):
    model = JobAttempt
    extra = 0
    readonly_fields = ["worker", "started_at", "finished_at", "error"]
    can_delete = False


class SuperuserReadOnly(admin.ModelAdmin):
    """Operators' view of the machinery: superusers only, and nothing to change by hand."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(SuperuserReadOnly):
    list_display = ["kind", "due_at", "state", "attempts", "last_error"]
    list_filter = ["state", "kind"]
    search_fields = ["idempotency_key"]
    exclude = ["payload", "patient_id", "branch_id"]
    inlines = [JobAttemptInline]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(SuperuserReadOnly):
    list_display = ["name", "last_seen_at", "jobs_done"]
