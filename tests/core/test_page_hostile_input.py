"""Page forms refuse values that cannot be stored (NUL, lone surrogates) with a 422 naming the field."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import QueryDict
from django.test import RequestFactory

from clinicflow.core.middleware import HostileInputMiddleware
from clinicflow.inbox.models import Inquiry
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db


def phone_call(moscow, **fields) -> dict:
    return {"phone": "+7 916 555-01-02", "full_name": "Ivan", "branch": moscow.pk, "consent": "on", **fields}


def test_a_nul_in_a_posted_field_is_a_422_naming_it_and_nothing_is_saved(rita_client, moscow):
    response = rita_client.post("/inquiries/new/", phone_call(moscow, full_name="Iv\x00an"))
    assert response.status_code == 422
    assert 'data-error-for="full_name"' in response.content.decode()
    assert not Inquiry.objects.exists() and not Patient.objects.exists()


@pytest.mark.parametrize("value", ["Iv\ud800an", "\udfff"])
def test_a_lone_surrogate_is_refused_before_any_view_runs(value):
    # Django's own form parsing turns broken UTF-8 into U+FFFD, so no test client can send one; the
    # middleware refuses it all the same, should another parser or server ever let one through.
    request = RequestFactory().post("/inquiries/new/")
    request.user = AnonymousUser()
    request.POST = QueryDict(mutable=True)
    request.POST["full_name"] = value

    def view_must_not_run(request):
        raise AssertionError("the view ran")

    response = HostileInputMiddleware(view_must_not_run)(request)
    assert response.status_code == 422
    assert 'data-error-for="full_name"' in response.content.decode()


def test_a_nul_in_a_query_parameter_is_refused_too(rita_client):
    response = rita_client.get("/patients/", {"q": "iv\x00an"})
    assert response.status_code == 422
    assert "The field “q” contains characters that cannot be stored" in response.content.decode()


def test_a_nul_in_a_field_name_is_refused_and_shown_harmlessly(rita_client):
    response = rita_client.post("/inquiries/new/", {"bad\x00name": "x"})
    assert response.status_code == 422
    assert "bad\ufffdname" in response.content.decode() and "\x00" not in response.content.decode()


def test_a_nul_is_refused_before_the_log_in_form_sees_it(client):
    assert client.post("/login/", {"username": "rita\x00", "password": "x"}).status_code == 422


def test_ordinary_unicode_passes(rita_client, moscow):
    response = rita_client.post("/inquiries/new/", phone_call(moscow, full_name="Иван Пётр 🙂"))
    assert response.status_code == 302
    assert Patient.objects.get().full_name == "Иван Пётр 🙂"


def test_a_50000_character_patient_search_is_cut_to_200_with_a_message(rita_client, ivan):
    response = rita_client.get("/patients/", {"q": "Ivan" + "x" * 49_996})
    assert response.status_code == 200
    html = response.content.decode()
    assert "The search was cut to its first 200 characters." in html
    assert 'value="Ivan' + "x" * 196 + '"' in html


def test_a_200_character_search_is_not_cut(rita_client):
    response = rita_client.get("/patients/", {"q": "x" * 200})
    assert response.status_code == 200
    assert "was cut" not in response.content.decode()
