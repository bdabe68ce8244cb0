from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "clinicflow.reports"
    verbose_name = "Reports"
