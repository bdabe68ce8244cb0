from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "clinicflow.scheduling"
    verbose_name = "Scheduling"
