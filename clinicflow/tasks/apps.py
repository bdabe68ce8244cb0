from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "clinicflow.tasks"
    verbose_name = "Tasks"
