from datetime import date, datetime

from ninja import Router, Schema

from clinicflow import gates
from clinicflow.core.api_types import DbId, SearchText

from .views import search_patients

router = Router(tags=["patients"])


class IdentityOut(Schema):
    channel: str
    address: str


class PatientOut(Schema):
    id: int
    full_name: str
    email: str
    birth_date: date | None
    preferred_channel: str
    language: str
    branch_id: int
    created_at: datetime
    identities: list[IdentityOut]

    @staticmethod
    def resolve_identities(obj):
        return list(obj.identities.all())


@router.get("", response=list[PatientOut], summary="Find patients by name, phone or e-mail")
def list_patients(request, q: SearchText = ""):
    gates.require_patient_reader(request.auth)
    return search_patients(request.auth, q)


@router.get("/{patient_id}", response=PatientOut)
def get_patient(request, patient_id: DbId):
    return gates.patient_for_user(request.auth, patient_id)
