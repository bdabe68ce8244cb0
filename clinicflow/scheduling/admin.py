"""The local schedule in Settings: a doctor's weekly hours and days off, on the doctor's own page.

The doctor's page belongs to clinic (reference data); scheduling sits above it, so it re-registers that page
with its own inlines rather than clinic importing scheduling.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinicflow.clinic.admin import LOCAL_TIME, DoctorAdmin
from clinicflow.clinic.models import Doctor
from clinicflow.funnel.services import mis_is_connected

from .models import DoctorDayOff, DoctorHours


class ReadOnlyWithMis:
    """With an MIS connected the MIS owns the schedule: these rows are shown, never edited here."""

    def has_add_permission(self, request, obj=None):
        return not mis_is_connected() and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not mis_is_connected() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not mis_is_connected() and super().has_delete_permission(request, obj)


class DoctorHoursInline(ReadOnlyWithMis, admin.TabularInline):
    model = DoctorHours
    extra = 0
    formfield_overrides = LOCAL_TIME
    verbose_name_plural = gettext_lazy("Weekly hours, in the branch's own time zone")


class DoctorDayOffInline(ReadOnlyWithMis, admin.TabularInline):
    model = DoctorDayOff
    extra = 0


class DoctorWithScheduleAdmin(DoctorAdmin):
    inlines = [DoctorHoursInline, DoctorDayOffInline]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if mis_is_connected() and request.method == "GET":
            messages.info(request, _("The MIS is connected: it owns the doctors' schedules. Change hours and "
                                     "days off there; they are shown here read-only."))
        return super().change_view(request, object_id, form_url, extra_context)


admin.site.unregister(Doctor)
admin.site.register(Doctor, DoctorWithScheduleAdmin)
