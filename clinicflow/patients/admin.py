from django.contrib import admin

from .models import Patient, PatientIdentity


class PatientIdentityInline(admin.TabularInline):
    model = PatientIdentity
    extra = 0


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["full_name", "branch", "created_at"]
    list_filter = ["branch"]
    search_fields = ["full_name", "identities__address"]
    inlines = [PatientIdentityInline]
