"""Keeping clinicflow and the MIS in step: reference data, bookings out, visit statuses in.

The MIS owns doctors, schedules and every visit's outcome; clinicflow mirrors them. Network calls never
run inside a database transaction: each write below is short and made after the MIS has answered.
"""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clinicflow.accounts.models import Role
from clinicflow.automation.models import Job
from clinicflow.automation.services import job_plan
from clinicflow.clinic.models import Branch, ClinicSettings, Doctor, Service, Specialty
from clinicflow.funnel.models import Source
from clinicflow.patients.models import Patient
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.services import appointment_set_status
from clinicflow.tasks.models import Task
from clinicflow.tasks.services import task_complete, task_create

from .adapters import mis_adapter
from .adapters.base import (
    AppointmentRequest,
    Coding,
    MisAdapter,
    MisAppointment,
    MisError,
    MisRefused,
    PatientDemographics,
    ReferenceData,
)
from .adapters.fhir_r4 import hook_entries
from .models import MisCursor, MisSchedule, UnmappedMisStatus

log = logging.getLogger("clinicflow.mis")

PUSH_JOB = "mis.appointment_push"
RECONCILE_JOB = "mis.reconcile"
POLL_CURSOR = "appointments"
# The first poll of a new connection looks this far back for changes to appointments we booked.
FIRST_POLL_LOOKBACK = timedelta(days=7)

S = Appointment.Status
# FHIR Appointment.status → ours. proposed, waitlist and entered-in-error have no meaning for a booked visit
# here: they are recorded for a manager (UnmappedMisStatus), never guessed.
STATUS_MAP = {"fulfilled": S.COMPLETED, "noshow": S.NO_SHOW, "cancelled": S.CANCELLED, "arrived": S.ARRIVED,
              "checked-in": S.ARRIVED, "booked": S.BOOKED, "pending": S.BOOKED}
OUTCOMES = (S.COMPLETED, S.NO_SHOW)


# --- reference data -------------------------------------------------------------------------------------


def mis_reference_sync(*, adapter: MisAdapter | None = None) -> dict:
    """Mirror the MIS's locations, practitioners, roles, services and schedules; what disappeared is deactivated.

    Branches are found or created, never renamed or removed here: their hours, zone and address are the
    clinic's own settings. Nothing is deleted, so past visits keep their doctor and service.
    """
    data = (adapter or mis_adapter()).reference_data()
    with transaction.atomic():
        branches = {location.mis_id: _branch_for(location.mis_id, location.name) for location in data.locations}
        doctors = _sync_doctors(data)
        for role in data.roles:
            doctor = doctors.get(role.practitioner_id)
            if doctor is None or not role.active:
                continue
            doctor.specialties.add(*(_specialty_for(coding) for coding in role.specialties))
            doctor.branches.add(*filter(None, (branches.get(mis_id) for mis_id in role.location_ids)))
        services = _sync_services(data)
        schedules = _sync_schedules(data, doctors, branches)
    return {"branches": len(branches), "doctors": len(doctors), "services": services, "schedules": schedules}


def _unique_name(model, field: str, name: str, mis_id: str, pk=None) -> str:
    """The MIS's name, with its id added when another row already has that name (names are unique here)."""
    taken = model.objects.filter(**{field: name}).exclude(pk=pk).exists()
    return f"{name} ({mis_id})"[:120] if taken else name


def _branch_for(mis_id: str, name: str) -> Branch:
    branch = Branch.objects.filter(mis_id=mis_id).first() or Branch.objects.filter(name=name, mis_id="").first()
    if branch is None:
        return Branch.objects.create(name=_unique_name(Branch, "name", name, mis_id)[:120], mis_id=mis_id)
    if not branch.mis_id:
        Branch.objects.filter(pk=branch.pk).update(mis_id=mis_id)
    return branch


def _specialty_for(coding: Coding) -> Specialty:
    specialty = (Specialty.objects.filter(mis_id=coding.code).first()
                 or Specialty.objects.filter(name=coding.name, mis_id="").first())
    if specialty is None:
        return Specialty.objects.create(name=_unique_name(Specialty, "name", coding.name, coding.code),
                                        mis_id=coding.code[:64])
    if not specialty.mis_id:
        Specialty.objects.filter(pk=specialty.pk).update(mis_id=coding.code[:64])
    return specialty


def _sync_doctors(data: ReferenceData) -> dict[str, Doctor]:
    doctors = {}
    for practitioner in data.practitioners:
        # A clinic that ran without an MIS already has its doctors: the first sync links them by name.
        doctor = (Doctor.objects.filter(mis_id=practitioner.mis_id).first()
                  or Doctor.objects.filter(full_name=practitioner.full_name, mis_id="").first()
                  or Doctor(mis_id=practitioner.mis_id))
        doctor.full_name, doctor.active = practitioner.full_name[:160], practitioner.active
        doctor.mis_id = practitioner.mis_id
        doctor.save()
        doctors[practitioner.mis_id] = doctor
    Doctor.objects.exclude(mis_id="").exclude(mis_id__in=doctors).update(active=False)
    return doctors


def _sync_services(data: ReferenceData) -> int:
    seen = []
    for item in data.services:
        service = (Service.objects.filter(mis_id=item.mis_id).first()
                   or Service.objects.filter(name=item.name, mis_id="").first() or Service(mis_id=item.mis_id))
        service.name = _unique_name(Service, "name", item.name, item.mis_id, pk=service.pk)[:160]
        service.mis_id, service.active = item.mis_id, item.active
        if item.specialty:
            service.specialty = _specialty_for(item.specialty)
        service.save()
        seen.append(item.mis_id)
    Service.objects.exclude(mis_id="").exclude(mis_id__in=seen).update(active=False)
    return len(seen)


def _sync_schedules(data: ReferenceData, doctors: dict[str, Doctor], branches: dict[str, Branch]) -> int:
    seen = []
    for schedule in data.schedules:
        doctor = doctors.get(schedule.practitioner_id)
        if doctor is None:
            continue
        branch = branches.get(schedule.location_id)
        MisSchedule.objects.update_or_create(mis_id=schedule.mis_id, defaults={
            "doctor": doctor, "branch": branch, "active": schedule.active and doctor.active})
        if branch is not None:
            doctor.branches.add(branch)
        seen.append(schedule.mis_id)
    MisSchedule.objects.exclude(mis_id__in=seen).update(active=False)
    return len(seen)


# --- bookings out -----------------------------------------------------------------------------------------


def mis_appointment_push(*, appointment_id: int, adapter: MisAdapter | None = None) -> str:
    """Make the MIS match our appointment: create it there, move it, or cancel it. Safe to run again.

    A new booking waits as "requested" until the MIS has it; then it becomes "booked". Raises MisError when
    the MIS is down or refuses: the job engine retries with backoff, the appointment stays as it is.
    """
    appointment = (Appointment.objects.select_related("patient", "doctor", "branch")
                   .filter(pk=appointment_id).first())
    if appointment is None:
        return "the appointment no longer exists"
    adapter = adapter or mis_adapter()
    if appointment.status == S.CANCELLED:
        if not appointment.mis_id:
            return "cancelled before it reached the MIS"
        adapter.appointment_cancel(appointment.mis_id)
        return "cancelled in the MIS"
    if appointment.status in OUTCOMES:
        return "the visit is over: the MIS has its outcome"
    if not appointment.doctor.mis_id:
        raise MisRefused("the doctor is not linked to a practitioner of the MIS")
    slot_id = _slot_id(appointment, adapter)
    if appointment.mis_id:
        adapter.appointment_update(appointment.mis_id, starts_at=appointment.starts_at,
                                   ends_at=appointment.ends_at, slot_id=slot_id)
        result = "updated in the MIS"
    else:
        mis_id = adapter.appointment_create(AppointmentRequest(
            local_id=appointment.pk, patient_id=_mis_patient_id(appointment.patient, adapter),
            practitioner_id=appointment.doctor.mis_id, starts_at=appointment.starts_at,
            ends_at=appointment.ends_at, slot_id=slot_id, location_id=appointment.branch.mis_id))
        Appointment.objects.filter(pk=appointment.pk, mis_id="").update(mis_id=mis_id)
        appointment.mis_id = mis_id
        result = "booked in the MIS"
    if appointment.status == S.REQUESTED:
        appointment_set_status(appointment=appointment, status=S.BOOKED, source=Source.MIS)
    _outage_tasks_close(appointment.patient)
    return result


def _slot_id(appointment: Appointment, adapter: MisAdapter) -> str:
    """The MIS's slot at the appointment's time: the one the booking screen chose, else the free one found."""
    chosen = getattr(appointment, "mis_slot_id", "")  # the field comes with the booking screen (issue 7)
    if chosen:
        return chosen
    schedules = list(MisSchedule.objects.filter(Q(branch__isnull=True) | Q(branch=appointment.branch_id),
                                                doctor=appointment.doctor_id, active=True)
                     .values_list("mis_id", flat=True))
    slots = adapter.free_slots(schedule_ids=schedules, start=appointment.starts_at,
                               end=appointment.starts_at + timedelta(seconds=1))
    return next((slot.mis_id for slot in slots if slot.starts_at == appointment.starts_at), "")


def _mis_patient_id(patient: Patient, adapter: MisAdapter) -> str:
    if patient.mis_id:
        return patient.mis_id
    phones = patient.phones
    mis_id = adapter.patient_find_or_create(PatientDemographics(
        local_id=patient.pk, full_name=patient.full_name, phone=phones[0] if phones else "",
        birth_date=patient.birth_date))
    Patient.objects.filter(pk=patient.pk, mis_id="").update(mis_id=mis_id)
    return mis_id


def _outage_title() -> str:
    # In the clinic's language, the same words every time: the open task is found again by its title.
    with translation.override(ClinicSettings.load().default_language):
        return _("Booking not yet confirmed by the MIS")


def mis_outage_task_open(*, appointment_id: int) -> Task | None:
    """One open task per patient for the front desk while the MIS has not taken their booking."""
    appointment = Appointment.objects.select_related("patient", "branch").filter(pk=appointment_id).first()
    title = _outage_title()
    if appointment is None or Task.objects.filter(patient=appointment.patient, kind=Task.Kind.FOLLOW_UP,
                                                  title=title, done_at__isnull=True).exists():
        return None
    return task_create(title=title, branch=appointment.branch, due_at=timezone.now(), kind=Task.Kind.FOLLOW_UP,
                       role=Role.RECEPTIONIST, patient=appointment.patient)


def _outage_tasks_close(patient: Patient) -> None:
    if Appointment.objects.filter(patient=patient, status=S.REQUESTED, mis_id="").exists():
        return  # another of their bookings is still waiting for the MIS
    for task in Task.objects.filter(patient=patient, kind=Task.Kind.FOLLOW_UP, title=_outage_title(),
                                    done_at__isnull=True):
        task_complete(task=task, by=None)


def mis_push_plan(*, appointment: Appointment, reason: str) -> Job:
    """Plan a push now, unless one is already waiting to run."""
    waiting = Job.objects.filter(kind=PUSH_JOB, payload__appointment_id=appointment.pk,
                                 state__in=[Job.State.PENDING, Job.State.RUNNING]).first()
    if waiting:
        return waiting
    now = timezone.now()
    return job_plan(kind=PUSH_JOB, due_at=now, key=f"{PUSH_JOB}:{appointment.pk}:{reason}:{now.isoformat()}",
                    payload={"appointment_id": appointment.pk}, patient_id=appointment.patient_id,
                    branch_id=appointment.branch_id)


def mis_stranded_push() -> int:
    """Push again the bookings the MIS never got (their job ran out of attempts): nothing waits forever."""
    stranded = Appointment.objects.filter(status=S.REQUESTED, mis_id="")
    for appointment in stranded:
        mis_push_plan(appointment=appointment, reason="retry")
    return len(stranded)


# --- statuses in ------------------------------------------------------------------------------------------


def mis_status_apply(*, mis_appointment: MisAppointment, current: bool = True,
                     adapter: MisAdapter | None = None) -> str:
    """Follow a status the MIS reports for one of our appointments.

    `current` is False for a webhook, which may arrive late and out of order: before a visit's outcome is
    taken back on its word, the MIS is asked for the appointment's status of now.
    """
    appointment = Appointment.objects.filter(mis_id=mis_appointment.mis_id).first()
    if appointment is None:
        return "not booked through clinicflow"
    status = STATUS_MAP.get(mis_appointment.status)
    if status is None:
        _unmapped_record(mis_appointment, appointment)
        return "unmapped status recorded"
    if appointment.status == status or (status == S.BOOKED and appointment.status == S.CONFIRMED):
        return "unchanged"
    if appointment.status == S.CANCELLED and status in (S.BOOKED, S.ARRIVED):
        # Our cancellation has not reached the MIS yet (a push still waiting or run out): send it again.
        mis_push_plan(appointment=appointment, reason="cancel")
        return "cancellation sent again"
    if not current and appointment.status in OUTCOMES:
        try:
            return mis_status_apply(mis_appointment=(adapter or mis_adapter()).appointment_get(
                mis_appointment.mis_id), adapter=adapter)
        except MisError as exc:
            log.warning("MIS appointment %s: could not confirm a change of outcome (%s); the poll will",
                        mis_appointment.mis_id, exc)
            return "left for the poll"
    try:
        appointment_set_status(appointment=appointment, status=status, source=Source.MIS)
    except ValidationError as exc:
        log.warning("MIS appointment %s: status %s not applied: %s", mis_appointment.mis_id, status,
                    "; ".join(exc.messages))
        return "refused"
    return f"now {status}"


def _unmapped_record(mis_appointment: MisAppointment, appointment: Appointment) -> None:
    log.warning("MIS appointment %s reports status %r, which clinicflow does not map; recorded, not applied",
                mis_appointment.mis_id, mis_appointment.status)
    row, created = UnmappedMisStatus.objects.get_or_create(
        mis_appointment_id=mis_appointment.mis_id, status=mis_appointment.status,
        defaults={"appointment_id": appointment.pk})
    if not created:
        UnmappedMisStatus.objects.filter(pk=row.pk).update(times_seen=F("times_seen") + 1,
                                                           last_seen_at=timezone.now())


def mis_hook_receive(*, body) -> list[str]:
    """Apply a webhook: an Appointment or a notification Bundle. Raises MalformedResource before any write."""
    entries = hook_entries(body)
    results = []
    for entry in entries:
        if isinstance(entry, str):  # an id-only notification: read the appointment from the MIS
            if not Appointment.objects.filter(mis_id=entry).exists():
                results.append("not booked through clinicflow")
                continue
            try:
                entry = mis_adapter().appointment_get(entry)
            except MisError as exc:
                log.warning("MIS appointment %s: notified but unreadable (%s); the poll will catch up", entry, exc)
                results.append("left for the poll")
                continue
            results.append(mis_status_apply(mis_appointment=entry))
        else:
            results.append(mis_status_apply(mis_appointment=entry, current=False))
    return results


def mis_statuses_poll(*, adapter: MisAdapter | None = None) -> int:
    """Read the appointments the MIS changed since the last poll: what a lost webhook missed."""
    adapter = adapter or mis_adapter()
    cursor = MisCursor.objects.filter(name=POLL_CURSOR).first()
    since = cursor.position if cursor else timezone.now() - FIRST_POLL_LOOKBACK
    changed = adapter.appointments_changed_since(since)
    for mis_appointment in changed:
        mis_status_apply(mis_appointment=mis_appointment, adapter=adapter)
    newest = max((c.updated_at for c in changed if c.updated_at), default=None)
    if newest and newest > since:
        MisCursor.objects.update_or_create(name=POLL_CURSOR, defaults={"position": newest,
                                                                       "updated_at": timezone.now()})
    return len(changed)


# --- the whole round --------------------------------------------------------------------------------------


def mis_reconcile(*, adapter: MisAdapter | None = None) -> str:
    """One reconciliation: reference data, statuses since the last poll, bookings the MIS never got."""
    adapter = adapter or mis_adapter()
    counts = mis_reference_sync(adapter=adapter)
    polled = mis_statuses_poll(adapter=adapter)
    stranded = mis_stranded_push()
    return (f"{counts['doctors']} doctors, {counts['services']} services, {counts['schedules']} schedules; "
            f"{polled} changed appointments; {stranded} bookings pushed again")
