from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MisConfig(AppConfig):
    name = "clinicflow.mis"
    verbose_name = _("MIS")

    def ready(self):
        from . import jobs  # noqa: F401  registers the push and reconciliation job handlers
        from .slots import mis_free_slots

        try:
            from clinicflow.scheduling.slots import register_slot_source
        except ImportError:
            pass  # the local schedule's module arrives with the booking screen
        else:
            register_slot_source(mis_free_slots)
        # The reconciliation job re-plans itself; migrating (every start of `clinicflow run`) plans the first.
        post_migrate.connect(jobs.plan_first_reconcile, sender=self)
