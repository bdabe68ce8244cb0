from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "clinicflow.imports"
    verbose_name = _("Spreadsheet import")

    def ready(self):
        from . import jobs  # noqa: F401  registers the batch job's handler
