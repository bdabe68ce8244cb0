from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.models import Role, user_roles
from clinicflow.clinic.models import Branch
from clinicflow.patients.models import Patient


class TaskQuerySet(models.QuerySet):
    def open(self):
        return self.filter(done_at__isnull=True)

    def for_user(self, user):
        """Assigned to the user, or to one of the user's roles and not yet to a person."""
        return self.filter(Q(assignee=user) | Q(assignee__isnull=True, role__in=user_roles(user)))

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())

    def listing(self, user, view: str):
        """The tasks page's tabs: "mine", "role" (for my role, nobody's yet), "overdue" (mine or my role's), or
        "attention": what a manager acts on, every escalation and every overdue task of the listed branches."""
        if view == "mine":
            return self.open().filter(assignee=user)
        if view == "role":
            return self.open().for_user(user).filter(assignee__isnull=True)
        if view == "overdue":
            return self.overdue().for_user(user)
        if view == "attention":
            return self.open().filter(Q(kind=Task.Kind.ESCALATION) | Q(due_at__lt=timezone.now()))
        raise ValueError(f"unknown task list {view!r}")


class Task(models.Model):
    """Something a person must do by a time: call back, follow up, handle an escalation."""

    class Kind(models.TextChoices):
        CALLBACK = "callback", _("Call back")
        FOLLOW_UP = "follow_up", _("Follow up")
        ESCALATION = "escalation", _("Escalation")
        COMPLAINT = "complaint", _("Complaint")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CALLBACK)
    title = models.CharField(_("title"), max_length=200)
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="tasks", verbose_name=_("branch"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                 related_name="tasks", verbose_name=_("assignee"))
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    due_at = models.DateTimeField(_("due"))
    patient = models.ForeignKey(Patient, models.CASCADE, null=True, blank=True, related_name="tasks",
                                verbose_name=_("patient"))
    inquiry = models.ForeignKey("inbox.Inquiry", models.CASCADE, null=True, blank=True, related_name="tasks",
                                verbose_name=_("inquiry"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("done by"))

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [models.Index(fields=["done_at", "due_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(assignee__isnull=True, role=""), name="task_has_assignee_or_role"),
            # An unanswered inquiry escalates once, however often the job runs.
            models.UniqueConstraint(fields=["inquiry", "kind"], condition=Q(kind="escalation"),
                                    name="one_escalation_per_inquiry"),
        ]

    def __str__(self):
        return self.title
