from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinicflow.clinic"
    verbose_name = "Clinic"
