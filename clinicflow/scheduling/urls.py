from django.urls import path

from . import views

app_name = "scheduling"
urlpatterns = [
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/book/", views.book, name="book"),
    path("appointments/<int:appointment_id>/reschedule/", views.reschedule, name="reschedule"),
    path("appointments/<int:appointment_id>/cancel/", views.cancel, name="cancel"),
]
