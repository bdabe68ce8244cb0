from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("imports/", views.import_list, name="list"),
    path("imports/<int:import_id>/", views.import_detail, name="detail"),
    path("imports/<int:import_id>/run/", views.import_run, name="run"),
    path("imports/<int:import_id>/refused.csv", views.import_refused_csv, name="refused_csv"),
]
