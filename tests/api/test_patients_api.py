"""GET /api/v1/patients: find a patient by phone in any spelling, by name or e-mail."""

import pytest

PATIENTS = "/api/v1/patients"


def found(client, auth, query) -> list[int]:
    response = client.get(PATIENTS, {"q": query}, **auth)
    assert response.status_code == 200
    return [p["id"] for p in response.json()]


@pytest.mark.parametrize("spelling", ["8 (916) 123-45-67", "+7 916 123 45 67", "79161234567", "89161234567"])
def test_it_finds_a_patient_by_any_spelling_of_the_phone(client, auth, ivan, spelling):
    assert found(client, auth, spelling) == [ivan.pk]


def test_it_finds_a_patient_by_part_of_the_name(client, auth, ivan):
    assert found(client, auth, "petr") == [ivan.pk]


def test_it_finds_a_patient_by_email(client, auth, ivan):
    ivan.email = "ivan@example.com"
    ivan.save()
    assert found(client, auth, "IVAN@example.com") == [ivan.pk]


def test_it_finds_nothing_for_an_unknown_phone(client, auth, ivan):
    assert found(client, auth, "+7 999 000 00 00") == []


def test_it_finds_nothing_of_another_branch(client, auth, ivan, nina):
    assert found(client, auth, "+7 923 765-43-21") == []


def test_it_answers_with_the_contact_data(client, auth, ivan):
    patient = client.get(f"{PATIENTS}/{ivan.pk}", **auth).json()
    assert patient["identities"] == [{"channel": "phone", "address": "+79161234567"}]
    assert patient["branch_id"] == ivan.branch_id


def test_it_answers_404_for_an_unknown_patient(client, auth, moscow):
    assert client.get(f"{PATIENTS}/999999", **auth).status_code == 404


def test_it_answers_422_for_a_malformed_id(client, auth, moscow):
    response = client.get(f"{PATIENTS}/abc", **auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "patient_id"]
