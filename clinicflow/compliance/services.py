from clinicflow.patients.models import Patient

from .models import Consent


def consent_record(*, patient: Patient, purpose: str, source: str, text_version: str = "",
                   ip_address: str | None = None, page_url: str = "") -> Consent:
    """Record a consent; a still-valid one for the same purpose is kept instead of duplicated."""
    existing = patient.consents.filter(purpose=purpose, withdrawn_at__isnull=True).first()
    if existing:
        return existing
    return Consent.objects.create(patient=patient, purpose=purpose, source=source, text_version=text_version,
                                  ip_address=ip_address, page_url=page_url[:500])
