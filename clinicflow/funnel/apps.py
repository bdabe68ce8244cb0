from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FunnelConfig(AppConfig):
    name = "clinicflow.funnel"
    verbose_name = _("Patient funnel")

    def ready(self):
        from . import merging  # noqa: F401  registers the funnel's step of a patient merge
