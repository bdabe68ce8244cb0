from datetime import datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Body, Field, Router, Schema

from clinicflow.clinic.models import Branch
from clinicflow.core import limits
from clinicflow.core.api_types import DbId, Limit, Text, one_of

from .access import case_for_user, cases_visible_to
from .models import Source, Stage
from .services import case_move, case_record_intake, case_transfer, lost_reason_listed

router = Router(tags=["cases"])


class TransitionOut(Schema):
    from_stage: str
    to_stage: str
    at: datetime
    by_id: int | None
    source: str
    reason: str
    from_branch_id: int | None
    to_branch_id: int | None

    @staticmethod
    def resolve_reason(obj):
        return obj.reason_shown


class CaseOut(Schema):
    id: int
    patient_id: int
    branch_id: int
    stage: str
    lost_reason: str
    lost_reason_id: int | None = Field(None, description="The reason from the clinic's list (Settings → Lost reasons)")
    intake: dict
    created_at: datetime
    stage_changed_at: datetime
    next_stages: list[str]
    transitions: list[TransitionOut]

    @staticmethod
    def resolve_lost_reason(obj):
        return obj.lost_reason_shown  # a listed reason in the client's language (English by default)

    @staticmethod
    def resolve_lost_reason_id(obj):
        return obj.listed_lost_reason_id

    @staticmethod
    def resolve_next_stages(obj):
        return list(obj.next_stages())

    @staticmethod
    def resolve_transitions(obj):
        return list(obj.transitions.all())


class TransferIn(Schema):
    branch_id: DbId
    reason: Text = Field(max_length=limits.REASON)


class MoveIn(Schema):
    stage: Stage
    reason: Text = Field("", max_length=limits.REASON,
                         description="Free text; to Lost, a listed reason's name links it")
    lost_reason_id: DbId | None = Field(None, description="To Lost: a reason from the clinic's list")


# Question keys are slugs of at most 40 characters; an answer is stored up to 500 characters.
IntakeKey = Annotated[Text, Field(max_length=40)]
IntakeAnswer = Annotated[Text, Field(max_length=limits.INTAKE_ANSWER)]


@router.get("", response=list[CaseOut])
def list_cases(request, stage: one_of(Stage, "") = "", patient_id: DbId | None = None, limit: Limit = 100):
    cases = cases_visible_to(request.auth).prefetch_related("transitions")
    if stage:
        cases = cases.filter(stage=stage)
    if patient_id:
        cases = cases.filter(patient_id=patient_id)
    return list(cases[:limit])


@router.get("/{case_id}", response=CaseOut)
def get_case(request, case_id: DbId):
    return case_for_user(request.auth, case_id)


@router.post("/{case_id}/moves", response=CaseOut, summary="Move a case to another stage (422 says why not)")
def move_case(request, case_id: DbId, payload: MoveIn):
    case = case_for_user(request.auth, case_id, write=True)
    lost_reason = None
    if payload.lost_reason_id is not None:
        lost_reason = lost_reason_listed(payload.lost_reason_id)
        if lost_reason is None:
            raise ValidationError({"lost_reason_id": _("No such lost reason.")})
    return case_move(case=case, to_stage=payload.stage, by=request.auth, source=Source.API, reason=payload.reason,
                     lost_reason=lost_reason)


@router.put("/{case_id}/intake", response=CaseOut, summary="Store the intake script's answers")
def put_intake(request, case_id: DbId, payload: Body[dict[IntakeKey, IntakeAnswer]]):
    return case_record_intake(case=case_for_user(request.auth, case_id, write=True), answers=payload)


@router.post("/{case_id}/transfer", response=CaseOut, summary="Hand the case over to another branch (recorded)")
def transfer_case(request, case_id: DbId, payload: TransferIn):
    case = case_for_user(request.auth, case_id, write=True)
    # Handing over needs the right to change the case; the receiving branch may be any of the clinic's.
    branch = Branch.objects.filter(pk=payload.branch_id).first()
    if branch is None:
        raise ValidationError({"branch_id": _("No such branch.")})
    return case_transfer(case=case, to_branch=branch, by=request.auth, reason=payload.reason)
