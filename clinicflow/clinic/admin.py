from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinicflow.core.admin import CountsOnlyOnDelete

from .models import Branch, ClinicSettings, ClosedDay, Doctor, Service, Specialty, WorkingHours

# A plain time input: the admin's clock widget warns on every field that the browser is hours ahead of the
# server, which is beside the point here (hours are the branch's local time, said once in the inline title).
LOCAL_TIME = {models.TimeField: {"widget": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}}


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0
    formfield_overrides = LOCAL_TIME
    verbose_name_plural = _("Working hours, in the branch's own time zone (one row per weekday)")


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 0


@admin.register(Branch)
class BranchAdmin(CountsOnlyOnDelete):
    list_display = ["name", "address", "time_zone", "holiday_country"]
    inlines = [WorkingHoursInline, ClosedDayInline]


@admin.register(Specialty)
class SpecialtyAdmin(CountsOnlyOnDelete):
    search_fields = ["name"]


@admin.register(Service)
class ServiceAdmin(CountsOnlyOnDelete):
    list_display = ["name", "specialty", "duration_minutes", "price", "active"]
    list_filter = ["specialty", "active"]
    search_fields = ["name"]


@admin.register(Doctor)
class DoctorAdmin(CountsOnlyOnDelete):
    list_display = ["full_name", "active", "mis_id"]
    list_filter = ["active", "branches", "specialties"]
    filter_horizontal = ["specialties", "branches"]
    search_fields = ["full_name"]


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(CountsOnlyOnDelete):
    """A single row: it can be changed, never added twice or deleted."""

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ClinicSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
