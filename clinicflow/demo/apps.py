from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "clinicflow.demo"
    verbose_name = "Demo clinic"
