from django.urls import path

from . import views

app_name = "tasks"
urlpatterns = [
    path("tasks/", views.task_list, name="list"),
    path("tasks/<int:task_id>/done/", views.task_done, name="done"),
]
