"""Finding a patient: any letter case in any alphabet, any spelling of the phone, the end of the number."""

import pytest

from clinicflow.patients.models import Patient
from clinicflow.patients.services import patient_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def ivan(moscow):
    return patient_resolve(branch=moscow, phone="+79161234567", full_name="Иван Петров", email="ivan@example.com")[0]


@pytest.mark.parametrize("query", ["иван", "ИВАН", "Петров", "ivan@example.com", "8 (916) 123-45-67", "4567",
                                   "+7 916 123"])
def test_it_finds_the_patient(ivan, query):
    assert list(Patient.objects.search(query)) == [ivan]


@pytest.mark.parametrize("query", ["мария", "0000", "12"])
def test_it_does_not_find_others(ivan, query):
    assert not Patient.objects.search(query).exists()


def test_the_search_page_lists_matches_in_my_branches(rita_client, ivan):
    response = rita_client.get("/patients/", {"q": "иван"})
    assert [p.pk for p in response.context["patients"]] == [ivan.pk]
