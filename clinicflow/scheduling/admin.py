from django.contrib import admin

from .models import Appointment


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["patient", "doctor", "branch", "starts_at", "status", "source", "is_primary"]
    list_filter = ["status", "branch", "doctor", "source"]
    raw_id_fields = ["patient", "case"]
    readonly_fields = ["status"]  # outcomes change through the scheduling service / MIS sync
