from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "clinicflow.compliance"
    verbose_name = "Compliance"
