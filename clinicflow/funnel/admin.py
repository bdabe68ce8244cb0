from django.contrib import admin

from .models import Case, CaseTransition, IntakeQuestion


class CaseTransitionInline(admin.TabularInline):
    model = CaseTransition
    extra = 0
    readonly_fields = ["from_stage", "to_stage", "at", "by", "source", "reason"]
    can_delete = False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["patient", "branch", "stage", "stage_changed_at"]
    list_filter = ["stage", "branch"]
    raw_id_fields = ["patient"]
    readonly_fields = ["stage"]  # stages change only through the funnel's rules
    inlines = [CaseTransitionInline]


@admin.register(IntakeQuestion)
class IntakeQuestionAdmin(admin.ModelAdmin):
    list_display = ["label", "key", "kind", "required", "position", "active"]
    list_editable = ["position", "active"]
