from django.contrib import admin

from .models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "assignee", "role", "due_at", "done_at"]
    list_filter = ["kind", "role", "branch"]
    raw_id_fields = ["patient", "inquiry", "assignee"]
