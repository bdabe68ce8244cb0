from django.contrib import admin

from .models import MisSchedule, UnmappedMisStatus


class ReadOnly(admin.ModelAdmin):
    """Rows the MIS sync writes: people read them (Settings → MIS), nobody edits them by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UnmappedMisStatus)
class UnmappedMisStatusAdmin(ReadOnly):
    """Statuses the MIS sent that clinicflow does not map: a manager checks these visits in the MIS."""

    list_display = ["mis_appointment_id", "status", "times_seen", "first_seen_at", "last_seen_at"]
    list_filter = ["status"]
    search_fields = ["mis_appointment_id"]


@admin.register(MisSchedule)
class MisScheduleAdmin(ReadOnly):
    list_display = ["mis_id", "doctor", "branch", "active"]
    list_filter = ["active", "branch"]
