from django.urls import path

from . import views

app_name = "tasks"
urlpatterns = [
    path("tasks/", views.task_list, name="list"),
    path("tasks/new/", views.task_new, name="new"),
    path("tasks/<int:task_id>/done/", views.task_done, name="done"),
    path("tasks/<int:task_id>/reopen/", views.task_undo, name="reopen"),
    path("tasks/<int:task_id>/reschedule/", views.task_move, name="reschedule"),
    path("tasks/<int:task_id>/reassign/", views.task_hand_over, name="reassign"),
]
