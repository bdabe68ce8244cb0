import pytest

from clinicflow.clinic.models import ClinicSettings

from .fake_provider import FakeProvider


@pytest.fixture
def fake_provider():
    provider = FakeProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def inbound_branch(moscow):
    """Channel deliveries go to the clinic's default branch."""
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})
    return moscow
