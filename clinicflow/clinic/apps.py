from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    name = "clinicflow.clinic"
    verbose_name = _("Clinic")

    def ready(self):
        from .cache import clinic_cache_clear
        from .models import Branch, ClinicSettings, ClosedDay, WorkingHours

        # Not a rule, only the process cache's freshness: whichever screen or command saves these rows.
        for model in (Branch, ClinicSettings, ClosedDay, WorkingHours):
            post_save.connect(clinic_cache_clear, sender=model, dispatch_uid=f"clinic-cache-save-{model.__name__}")
            post_delete.connect(clinic_cache_clear, sender=model, dispatch_uid=f"clinic-cache-del-{model.__name__}")
