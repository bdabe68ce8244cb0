from datetime import date, datetime

from ninja import Field, Router, Schema, Status

from clinicflow import gates
from clinicflow.core import limits
from clinicflow.core.api_types import DbId, SearchText, Text
from clinicflow.patients.merging import patient_merge, patient_unmerge

from .views import search_patients

router = Router(tags=["patients"])
# /api/v1/patient-merges: a merge is a patient write, so it takes the patients scopes (TokenScope.SHARED).
merges_router = Router(tags=["patients"])


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


class MergeIn(Schema):
    merge_id: DbId = Field(description="The card that goes into this one (it is kept, emptied, for an undo)")
    reason: Text = Field(max_length=limits.REASON, description="Why the two cards are one person")


class MergeOut(Schema):
    id: int
    kept_id: int
    merged_id: int
    reason: str
    at: datetime
    moved: dict[str, list[int]] = Field(description="The ids of the rows that moved, per table and column")
    filled: list[str] = Field(description="The kept card's blank fields filled from the merged card")
    undone_at: datetime | None


@router.post("/{patient_id}/merge", response={201: MergeOut}, summary="Merge another card into this one")
def merge_patients(request, patient_id: DbId, payload: MergeIn):
    keep, merge = gates.patients_to_merge(request.auth, patient_id, payload.merge_id)
    return Status(201, patient_merge(keep=keep, merge=merge, by=request.auth, reason=payload.reason))


@merges_router.post("/{merge_id}/undo", response=MergeOut, summary="Undo a merge (front-office managers, admins)")
def undo_merge(request, merge_id: DbId):
    return patient_unmerge(merge_record=gates.merge_for_user(request.auth, merge_id), by=request.auth)
