from django.contrib import admin

from .models import Inquiry, Message


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0


@admin.register(Inquiry)
class InquiryAdmin(admin.ModelAdmin):
    list_display = ["patient", "channel", "status", "received_at", "first_response_at", "utm_source"]
    list_filter = ["status", "channel", "branch"]
    raw_id_fields = ["patient", "case"]
    inlines = [MessageInline]
