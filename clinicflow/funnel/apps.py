from django.apps import AppConfig


class FunnelConfig(AppConfig):
    name = "clinicflow.funnel"
    verbose_name = "Patient funnel"
