from django.urls import path

from . import views

app_name = "robots"
urlpatterns = [
    path("robots/", views.board, name="board"),
    path("robots/new/", views.edit, name="new"),
    path("robots/log/", views.log, name="log"),
    path("robots/<int:robot_id>/", views.edit, name="edit"),
    path("robots/<int:robot_id>/toggle/", views.toggle, name="toggle"),
]
