"""Two patients, one per branch, for the access rules."""

import pytest

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
def plain_user(django_user_model):
    """Someone with a login who is not clinic staff (no role)."""
    return django_user_model.objects.create_user("visitor", password="pass-visitor")
