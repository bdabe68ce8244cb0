"""Settings → Branches: hours are checked in words, on the field, in the branch's own time."""

import pytest
from django.contrib.auth.models import User

from clinicflow.clinic.models import Branch, WorkingHours

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def branch_form(*rows: dict) -> dict:
    data = {"name": "Kazan", "time_zone": "Europe/Moscow", "address": "", "phone": "", "holiday_country": "",
            "mis_id": "", "working_hours-TOTAL_FORMS": str(len(rows)), "working_hours-INITIAL_FORMS": "0",
            "closed_days-TOTAL_FORMS": "0", "closed_days-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        data.update({f"working_hours-{index}-{name}": value for name, value in row.items()})
    return data


def monday(**overrides) -> dict:
    return {"weekday": "0", "opens": "09:00", "closes": "18:00", "break_starts": "", "break_ends": "", **overrides}


def inline_errors(response) -> list:
    formset = response.context["inline_admin_formsets"][0].formset
    return [formset.non_form_errors(), *[form.errors for form in formset.forms]]


def test_closing_before_opening_is_refused_in_words_on_the_closing_field(admin_client):
    response = admin_client.post("/admin/clinic/branch/add/", branch_form(monday(opens="18:00", closes="09:00")))
    assert response.status_code == 200
    errors = inline_errors(response)
    assert errors[1]["closes"] == ["Opening must be before closing."]
    page = response.content.decode()
    assert "opens_before_closes" not in page and "Opening must be before closing." in page
    assert not Branch.objects.exists()


def test_two_rows_for_one_weekday_are_refused_in_words(admin_client):
    response = admin_client.post("/admin/clinic/branch/add/", branch_form(monday(), monday(opens="10:00")))
    assert response.status_code == 200
    page = response.content.decode()
    assert "one_working_day_row_per_weekday" not in page and "duplicate data for weekday" in page
    assert not Branch.objects.exists()


def test_a_second_row_for_a_stored_weekday_is_refused_in_words(moscow):
    row = WorkingHours(branch=moscow, weekday=0, opens="08:00", closes="12:00")
    with pytest.raises(Exception) as refused:
        row.full_clean()
    assert "one row per weekday" in str(refused.value)


def test_half_a_break_is_refused_on_the_missing_field(admin_client):
    response = admin_client.post("/admin/clinic/branch/add/", branch_form(monday(break_starts="13:00")))
    assert inline_errors(response)[1]["break_ends"] == ["A break needs both a start and an end."]


def test_a_break_outside_the_hours_is_refused_on_the_break(admin_client):
    response = admin_client.post("/admin/clinic/branch/add/",
                                 branch_form(monday(break_starts="19:00", break_ends="20:00")))
    assert inline_errors(response)[1]["break_starts"] == ["The break must lie inside the working hours."]


def test_good_hours_are_saved(admin_client):
    response = admin_client.post("/admin/clinic/branch/add/", branch_form(monday(break_starts="13:00",
                                                                                 break_ends="14:00")))
    assert response.status_code == 302, inline_errors(response)
    assert WorkingHours.objects.get().closes.hour == 18


def test_the_hours_have_no_clock_widget_and_say_their_zone_once(admin_client):
    page = admin_client.get("/admin/clinic/branch/add/").content.decode()
    assert "vTimeField" not in page  # the admin's clock widget, which warns about the browser's zone per field
    assert page.count("in the branch&#x27;s own time zone") + page.count("in the branch's own time zone") == 1
