from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "inbox"
urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("inquiries/new/", views.inquiry_new, name="new"),
    path("inquiries/next/", views.inquiry_next_view, name="next"),
    path("inquiries/<int:inquiry_id>/", views.inquiry_detail, name="inquiry"),
    path("inquiries/<int:inquiry_id>/take/", views.inquiry_take_view, name="take"),
    path("inquiries/<int:inquiry_id>/respond/", views.inquiry_respond_view, name="respond"),
    path("inquiries/<int:inquiry_id>/close/", views.inquiry_close_view, name="close"),
    path("inquiries/<int:inquiry_id>/apply-given/", views.inquiry_apply_given_view, name="apply_given"),
    path("widget/form/", views.widget_form, name="widget_form"),
    # <script src="https://<crm>/widget.js">: the short, stable address clinics paste into their sites.
    path("widget.js", RedirectView.as_view(url=static("clinicflow/widget.js")), name="widget_js"),
    path("inquiries/<int:inquiry_id>/about/", views.inquiry_set_patient_view, name="set_patient"),
    path("inquiries/<int:inquiry_id>/dependant/", views.inquiry_add_dependant_view, name="add_dependant"),
]
