"""Patients of both branches and API tokens of each persona."""

import pytest

from clinicflow.accounts.models import ApiToken
from clinicflow.patients.models import Patient
from clinicflow.patients.services import patient_resolve


@pytest.fixture
def ivan(moscow) -> Patient:
    """A patient of the Moscow branch."""
    patient, _created = patient_resolve(branch=moscow, phone="+7 916 123-45-67", full_name="Ivan Petrov")
    return patient


@pytest.fixture
def nina(novosibirsk) -> Patient:
    """A patient of the Novosibirsk branch."""
    patient, _created = patient_resolve(branch=novosibirsk, phone="+7 923 765-43-21", full_name="Nina Sokolova")
    return patient


@pytest.fixture
def bearer():
    """Issue a token for a user and return the request header that carries it."""

    def bearer(user) -> dict:
        _token, key = ApiToken.issue(user=user, name=f"{user.username}'s integration")
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    return bearer
