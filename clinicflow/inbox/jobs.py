from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinicflow.accounts.models import Role
from clinicflow.automation.registry import job_handler
from clinicflow.tasks.models import Task

from .models import Inquiry
from .services import ESCALATE_JOB


@job_handler(ESCALATE_JOB, label=gettext_lazy("Escalate if still unanswered"))
def escalate_unanswered_inquiry(job) -> str:
    """The response target ran out: hand the inquiry to the front-office manager."""
    inquiry = Inquiry.objects.select_related("patient", "branch").filter(pk=job.payload["inquiry_id"]).first()
    if inquiry is None or not inquiry.is_waiting:
        return "answered in time"
    _task, created = Task.objects.get_or_create(
        inquiry=inquiry, kind=Task.Kind.ESCALATION,
        defaults={
            # No name in the title: titles travel to lists and notifications; the task links the patient.
            "title": _("Inquiry unanswered for over %(minutes)s working minutes") % {
                "minutes": settings.CLINICFLOW_RESPONSE_TARGET_MINUTES},
            "branch": inquiry.branch, "role": Role.FRONT_OFFICE_MANAGER, "patient": inquiry.patient,
            "due_at": timezone.now(),
        },
    )
    return "escalated" if created else "already escalated"
