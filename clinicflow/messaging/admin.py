from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["purpose", "language", "channel", "active"]
    list_filter = ["purpose", "language", "channel", "active"]
    readonly_fields = ["sample"]
    fields = ["purpose", "channel", "language", "body", "active", "sample"]

    @admin.display(description=_("Preview with sample values"))
    def sample(self, obj: MessageTemplate) -> str:
        return obj.preview() if obj.pk else "—"
