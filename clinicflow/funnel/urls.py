from django.urls import path

from . import views

app_name = "funnel"
urlpatterns = [
    path("cases/", views.board, name="board"),
    path("cases/<int:case_id>/move/", views.move, name="move"),
    path("cases/<int:case_id>/intake/", views.intake, name="intake"),
]
