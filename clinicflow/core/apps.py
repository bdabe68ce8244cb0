from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "clinicflow.core"
    verbose_name = "Core"
