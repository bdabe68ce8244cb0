from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "clinicflow.patients"
    verbose_name = "Patients"
