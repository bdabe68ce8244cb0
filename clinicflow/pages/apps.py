from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "clinicflow.pages"
    verbose_name = "Pages"
