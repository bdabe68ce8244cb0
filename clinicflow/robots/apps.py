from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RobotsConfig(AppConfig):
    name = "clinicflow.robots"
    verbose_name = _("Robots")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from clinicflow.clinic.cache import clinic_cache_clear

        from . import jobs  # noqa: F401  registers the run and birthday jobs and the event listeners
        from .models import Robot

        # Not a rule, only the freshness of the per-process list of robots (services.enabled_robots).
        post_save.connect(clinic_cache_clear, sender=Robot, dispatch_uid="robots-cache-save")
        post_delete.connect(clinic_cache_clear, sender=Robot, dispatch_uid="robots-cache-delete")
