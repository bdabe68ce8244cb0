from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "clinicflow.automation"
    verbose_name = _("Automation")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the engine's periodic chores)
