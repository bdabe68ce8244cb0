from django.urls import path

from . import views

app_name = "patients"
urlpatterns = [
    path("patients/", views.search, name="search"),
    path("patients/new/", views.patient_create, name="new"),
    path("patients/<int:patient_id>/", views.card, name="card"),
    path("patients/<int:patient_id>/consents/", views.consent_change, name="consent"),
    path("patients/<int:patient_id>/contacts/", views.contacts_edit, name="contacts"),
    path("patients/<int:patient_id>/notes/", views.note_add, name="note"),
    path("patients/<int:patient_id>/tasks/", views.card_task_add, name="task"),
    # The inquiry page's "Send to the patient": lives here because it needs messaging (a layer above inbox).
    path("inquiries/<int:inquiry_id>/send/", views.inquiry_send, name="inquiry_send"),
]
