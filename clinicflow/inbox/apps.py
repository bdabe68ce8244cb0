from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "clinicflow.inbox"
    verbose_name = "Inbox"

    def ready(self):
        from . import jobs  # noqa: F401  registers the escalation job handler
