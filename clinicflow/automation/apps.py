from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "clinicflow.automation"
    verbose_name = "Automation"
