from django.urls import path

from . import views

app_name = "patients"
urlpatterns = [
    path("patients/", views.search, name="search"),
    path("patients/new/", views.patient_create, name="new"),
    path("patients/<int:patient_id>/", views.card, name="card"),
    path("patients/<int:patient_id>/consents/", views.consent_change, name="consent"),
]
