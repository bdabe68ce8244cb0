from django.contrib import admin

from .models import Consent


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["patient", "purpose", "given_at", "withdrawn_at", "source"]
    list_filter = ["purpose", "source"]
    raw_id_fields = ["patient"]
