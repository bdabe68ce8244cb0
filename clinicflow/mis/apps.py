from datetime import timedelta

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class MisConfig(AppConfig):
    name = "clinicflow.mis"
    verbose_name = _("MIS")

    def ready(self):
        from clinicflow.automation.registry import periodic_job
        from clinicflow.scheduling.slots import register_slot_source

        from . import jobs  # noqa: F401  registers the push and reconciliation job handlers
        from .slots import mis_free_slots

        register_slot_source(mis_free_slots)
        # Every few minutes the worker reconciles with the MIS (a round without an MIS connected does nothing).
        periodic_job(jobs.RECONCILE_JOB, every=timedelta(minutes=settings.CLINICFLOW_MIS_SYNC_MINUTES))
