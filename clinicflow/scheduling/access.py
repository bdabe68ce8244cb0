"""The read gate applied to appointments."""

from clinicflow import gates

from .models import Appointment


def appointments_visible_to(user):
    return gates.visible(Appointment.objects.all(), user)


def appointment_for_user(user, appointment_id, *, write: bool = False) -> Appointment:
    queryset = Appointment.objects.select_related("branch", "doctor", "service")
    return gates.one_for_user(queryset, user, appointment_id, write=write)
