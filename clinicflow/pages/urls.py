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
    path("patients/<int:patient_id>/dependants/", views.dependant_add, name="dependant"),
    path("patients/<int:patient_id>/representatives/", views.representative_add, name="representative"),
    path("patients/<int:patient_id>/representatives/<int:link_id>/remove/", views.representative_remove,
         name="representative_remove"),
    path("patients/<int:patient_id>/merge/", views.merge_choose, name="merge"),
    path("patients/<int:patient_id>/merge/<int:other_id>/", views.merge_confirm, name="merge_confirm"),
    path("patient-merges/<int:merge_id>/undo/", views.merge_undo, name="merge_undo"),
    # The inquiry page's "Send to the patient": lives here because it needs messaging (a layer above inbox).
    path("inquiries/<int:inquiry_id>/send/", views.inquiry_send, name="inquiry_send"),
]
