from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clinicflow.accounts"
    verbose_name = "Staff and access"
