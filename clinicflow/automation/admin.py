from django.contrib import admin

from .models import Job, JobAttempt, WorkerHeartbeat


class JobAttemptInline(admin.TabularInline):
    model = JobAttempt
    extra = 0
    readonly_fields = ["worker", "started_at", "finished_at", "error"]
    can_delete = False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["kind", "due_at", "state", "attempts", "last_error", "patient"]
    list_filter = ["state", "kind"]
    search_fields = ["idempotency_key"]
    raw_id_fields = ["patient"]
    inlines = [JobAttemptInline]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_seen_at", "jobs_done"]
