from django.urls import path

from . import views

app_name = "compliance"
urlpatterns = [
    path("compliance/access-log/", views.access_log, name="access_log"),
    path("compliance/access-log.csv", views.access_log_csv, name="access_log_csv"),
]
