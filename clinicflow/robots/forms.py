from django import forms

from .models import Robot


class RobotForm(forms.ModelForm):
    webhook_url = forms.URLField(label=Robot._meta.get_field("webhook_url").verbose_name, required=False,
                                 assume_scheme="https")

    class Meta:
        model = Robot
        fields = ["name", "stage", "trigger", "timing", "offset_minutes", "working_hours_only", "branch",
                  "specialty", "service", "channel", "visits", "future_visit", "action", "purpose", "task_title",
                  "role", "to_stage", "webhook_url", "journey", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else \
                "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css
