"""Free slots from the MIS, for the booking screen and the widget (a slot source of scheduling.slots)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q

from clinicflow.funnel.services import mis_is_connected

from .adapters import mis_adapter
from .models import MisSchedule


@dataclass(frozen=True)
class FreeSlot:
    doctor_id: int
    branch_id: int
    starts_at: datetime
    ends_at: datetime
    mis_slot_id: str


def mis_free_slots(*, branch, start: datetime, end: datetime, doctor=None, service=None, specialty=None) -> list:
    """The MIS's free slots at a branch between start and end, by doctor, service or specialty.

    Kept in the cache for CLINICFLOW_MIS_SLOT_CACHE_SECONDS: a schedule screen asks again on every click. A
    slot taken meanwhile is still refused at booking time by the database and by the MIS. Without an MIS
    connected, an empty list (the local schedule answers instead). Raises MisError when the MIS is down.
    """
    if not mis_is_connected():
        return []
    schedules = MisSchedule.objects.filter(Q(branch__isnull=True) | Q(branch=branch), active=True,
                                           doctor__active=True, doctor__branches=branch)
    if doctor is not None:
        schedules = schedules.filter(doctor=doctor)
    specialty = specialty or (service.specialty if service is not None else None)
    if specialty is not None:
        schedules = schedules.filter(doctor__specialties=specialty)
    doctor_of = dict(schedules.values_list("mis_id", "doctor_id"))
    if not doctor_of:
        return []
    key = "mis-slots:" + hashlib.sha256(
        f"{sorted(doctor_of)}|{start.isoformat()}|{end.isoformat()}".encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = mis_adapter().free_slots(schedule_ids=sorted(doctor_of), start=start, end=end)
        cache.set(key, found, settings.CLINICFLOW_MIS_SLOT_CACHE_SECONDS)
    service_code = service.mis_id if service is not None else ""
    return [FreeSlot(doctor_of[slot.schedule_id], branch.pk, slot.starts_at, slot.ends_at, slot.mis_id)
            for slot in found
            if slot.schedule_id in doctor_of and (not service_code or not slot.service_codes
                                                  or service_code in slot.service_codes)]
