from django.contrib import admin

from clinicflow.core.admin import CountsOnlyOnDelete

from .models import IntakeQuestion

# Patient data (patients, inquiries, cases, visits, tasks, consents) has no admin pages: it is read and
# changed only on clinicflow's own screens, through the read gate and the access log (decision 0002).


@admin.register(IntakeQuestion)
class IntakeQuestionAdmin(CountsOnlyOnDelete):
    list_display = ["label", "key", "kind", "required", "position", "active"]
    list_editable = ["position", "active"]
