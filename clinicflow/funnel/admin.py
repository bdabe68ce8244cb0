from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from clinicflow.core.admin import CountsOnlyOnDelete

from .models import IntakeQuestion, LostReason

# Patient data (patients, inquiries, cases, visits, tasks, consents) has no admin pages: it is read and
# changed only on clinicflow's own screens, through the read gate and the access log (decision 0002).


@admin.register(IntakeQuestion)
class IntakeQuestionAdmin(CountsOnlyOnDelete):
    list_display = ["label", "key", "kind", "required", "position", "active"]
    list_editable = ["position", "active"]


@admin.register(LostReason)
class LostReasonAdmin(CountsOnlyOnDelete):
    """The clinic's list of reasons a case is lost. Switch a reason off rather than delete it: lost cases keep
    their words either way, but reports count by the listed reason."""

    list_display = ["name", "shown_as", "closes_fresh_case", "position", "active"]
    list_editable = ["closes_fresh_case", "position", "active"]

    @admin.display(description=_("shown as"))
    def shown_as(self, reason: LostReason) -> str:
        # The list a clinic starts with is stored in English and shown in each person's language.
        return reason.label
