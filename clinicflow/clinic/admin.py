from django.contrib import admin

from clinicflow.core.admin import CountsOnlyOnDelete

from .models import Branch, ClinicSettings, ClosedDay, Doctor, Service, Specialty, WorkingHours


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


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
