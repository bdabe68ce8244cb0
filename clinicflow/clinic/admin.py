from django.contrib import admin

from .models import Branch, ClosedDay, Doctor, Service, Specialty, WorkingHours


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 0


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "time_zone", "holiday_country"]
    inlines = [WorkingHoursInline, ClosedDayInline]


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "specialty", "duration_minutes", "price", "active"]
    list_filter = ["specialty", "active"]
    search_fields = ["name"]


@admin.register(Doctor)
class DoctorAdmin(admin.ModelAdmin):
    list_display = ["full_name", "active", "mis_id"]
    list_filter = ["active", "branches", "specialties"]
    filter_horizontal = ["specialties", "branches"]
    search_fields = ["full_name"]
