"""The local schedule in Settings: a clinic admin edits a doctor's hours; with an MIS they are read-only."""

import pytest

from clinicflow.scheduling.models import DoctorHours

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, clinic_admin):
    clinic_admin.is_staff = True
    clinic_admin.save()
    client.force_login(clinic_admin)
    return client


def doctor_form(doctor, moscow, **hours) -> dict:
    form = {"full_name": doctor.full_name, "active": "on", "branches": [moscow.pk], "mis_id": "",
            "hours-TOTAL_FORMS": "1", "hours-INITIAL_FORMS": "0", "days_off-TOTAL_FORMS": "0",
            "days_off-INITIAL_FORMS": "0"}
    return form | {f"hours-0-{key}": value for key, value in {"branch": moscow.pk, "weekday": 0, **hours}.items()}


def test_a_clinic_admin_adds_a_doctors_weekly_hours(admin_client, doctor, moscow):
    response = admin_client.post(f"/admin/clinic/doctor/{doctor.pk}/change/",
                                 doctor_form(doctor, moscow, starts="09:00", ends="12:00"))
    assert response.status_code == 302
    assert [str(h) for h in doctor.hours.all()] == ["Monday 09:00–12:00"]


def test_an_end_before_the_start_is_refused_on_the_end(admin_client, doctor, moscow):
    response = admin_client.post(f"/admin/clinic/doctor/{doctor.pk}/change/",
                                 doctor_form(doctor, moscow, starts="12:00", ends="09:00"))
    assert response.status_code == 200 and "The start must be before the end." in response.content.decode()
    assert not DoctorHours.objects.exists()


def test_with_an_mis_the_schedule_is_read_only_and_says_so(admin_client, doctor, moscow, settings):
    settings.CLINICFLOW_MIS_BASE_URL = "http://mis.local/fhir"
    page = admin_client.get(f"/admin/clinic/doctor/{doctor.pk}/change/").content.decode()
    assert "The MIS is connected: it owns the doctors&#x27; schedules." in page
    admin_client.post(f"/admin/clinic/doctor/{doctor.pk}/change/",
                      doctor_form(doctor, moscow, starts="09:00", ends="12:00"))
    assert not DoctorHours.objects.exists()
