from django.urls import path

from . import views

urlpatterns = [
    path("hooks/mis/fhir", views.fhir_hook, name="mis_fhir_hook"),
]
