"""The adapter of the connected MIS, chosen by settings."""

from django.conf import settings

from .base import MisAdapter


def mis_adapter() -> MisAdapter:
    """The FHIR R4 adapter is the only one so far; a second kind of MIS gets a setting that picks it."""
    from .fhir_r4 import FhirR4Adapter

    return FhirR4Adapter(
        base_url=settings.CLINICFLOW_MIS_BASE_URL, token=settings.CLINICFLOW_MIS_TOKEN,
        username=settings.CLINICFLOW_MIS_USERNAME, password=settings.CLINICFLOW_MIS_PASSWORD,
        timeout=settings.CLINICFLOW_MIS_TIMEOUT_SECONDS)
