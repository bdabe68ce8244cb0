from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RobotsConfig(AppConfig):
    name = "clinicflow.robots"
    verbose_name = _("Robots")

    def ready(self):
        from . import jobs  # noqa: F401  registers the run and birthday jobs and the event listeners
