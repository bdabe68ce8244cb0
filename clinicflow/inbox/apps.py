from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "clinicflow.inbox"
    verbose_name = _("Inbox")

    def ready(self):
        from . import jobs  # noqa: F401  registers the escalation job handler
