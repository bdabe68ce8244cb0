"""The MIS adapter for HL7 FHIR R4 servers, over plain REST (httpx).

Payloads are checked with the `fhir.resources.R4B` models (R4B is R4 for every resource used here; the
package has no pure R4 models). Those models accept any code, so the allowed Appointment.status values are
our own set below. What comes in is cut down to the elements we read *before* it is validated, logged or
stored: an MIS keeps reasons, diagnoses, comments and notes on its appointments, and none of that may reach
clinicflow.
"""

import logging
import re
from datetime import UTC, datetime

import httpx
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot
from pydantic import ValidationError

from .base import (
    AppointmentRequest,
    Coding,
    MisAdapter,
    MisAppointment,
    MisLocation,
    MisPractitioner,
    MisRefused,
    MisRole,
    MisSchedule,
    MisService,
    MisSlot,
    MisUnavailable,
    PatientDemographics,
    ReferenceData,
)

log = logging.getLogger("clinicflow.mis")

# https://hl7.org/fhir/R4/valueset-appointmentstatus.html (a required binding).
APPOINTMENT_STATUSES = frozenset({"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
                                  "entered-in-error", "checked-in", "waitlist"})
# Our own identifiers on what we create, so that a retried create finds the first one (If-None-Exist).
APPOINTMENT_SYSTEM = "urn:clinicflow:appointment"
PATIENT_SYSTEM = "urn:clinicflow:patient"
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
STATUS_CODE = re.compile(r"^[A-Za-z0-9\-]{1,32}$")
MAX_PAGES = 50

# The elements of an incoming Appointment that we read. Everything else (reasonCode, reasonReference,
# diagnosis, comment, note, supportingInformation, patientInstruction, description, cancelationReason, ...)
# is dropped before validation, so it is never stored, logged or echoed in an error.
APPOINTMENT_KEEP = ("resourceType", "id", "meta", "status", "start", "end", "minutesDuration", "slot", "participant")
PARTICIPANT_KEEP = ("actor", "status", "required")


class MalformedResource(ValueError):
    """An incoming resource we cannot read; `field` names the element, the message never quotes its value."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _reference(value) -> dict | None:
    return {"reference": value["reference"]} if isinstance(value, dict) and isinstance(value.get("reference"),
                                                                                     str) else None


def _meta(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    kept = {key: value[key] for key in ("versionId", "lastUpdated") if key in value}
    return kept or None


def appointment_minimised(resource) -> dict:
    """The Appointment with only the elements we read; the clinical rest never leaves this function."""
    if not isinstance(resource, dict):
        raise MalformedResource("resource", "expected a JSON object")
    kept = {key: resource[key] for key in APPOINTMENT_KEEP if key in resource}
    if "meta" in kept:
        kept["meta"] = _meta(kept["meta"])
    if isinstance(kept.get("slot"), list):
        kept["slot"] = [ref for ref in map(_reference, kept["slot"]) if ref]
    if isinstance(kept.get("participant"), list):
        participants = []
        for participant in kept["participant"]:
            if isinstance(participant, dict):
                one = {key: participant[key] for key in PARTICIPANT_KEEP if key in participant}
                if "actor" in one:
                    one["actor"] = _reference(one["actor"])
                participants.append({key: value for key, value in one.items() if value is not None})
        kept["participant"] = participants
    return {key: value for key, value in kept.items() if value is not None}


def appointment_from_fhir(resource) -> MisAppointment:
    """Read an incoming Appointment. Raises MalformedResource; an unknown status code is not malformed."""
    clean = appointment_minimised(resource)
    if clean.get("resourceType") != "Appointment":
        raise MalformedResource("resourceType", "expected Appointment")
    try:
        appointment = Appointment.model_validate(clean)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise MalformedResource(".".join(str(part) for part in error["loc"]) or "resource", error["msg"]) from None
    if not appointment.id or not FHIR_ID.match(appointment.id):
        raise MalformedResource("id", "a FHIR id is required")
    if not STATUS_CODE.match(appointment.status or ""):
        raise MalformedResource("status", "not a code")
    return MisAppointment(mis_id=appointment.id, status=appointment.status, starts_at=appointment.start,
                          ends_at=appointment.end,
                          updated_at=appointment.meta.lastUpdated if appointment.meta else None)


def hook_entries(body) -> list[MisAppointment | str]:
    """The appointments a webhook body speaks of: an Appointment, or a notification Bundle of them.

    A Bundle entry without a resource (an "id-only" notification) gives the Appointment's id, to be read
    from the MIS. Other entries (the SubscriptionStatus Parameters of the R5 backport) are skipped.
    """
    if not isinstance(body, dict):
        raise MalformedResource("resource", "expected a JSON object")
    if body.get("resourceType") == "Appointment":
        return [appointment_from_fhir(body)]
    if body.get("resourceType") != "Bundle":
        raise MalformedResource("resourceType", "expected Appointment or Bundle")
    entries = body.get("entry") or []
    if not isinstance(entries, list):
        raise MalformedResource("entry", "expected a list")
    found: list[MisAppointment | str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise MalformedResource(f"entry.{index}", "expected a JSON object")
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") == "Appointment":
            try:
                found.append(appointment_from_fhir(resource))
            except MalformedResource as exc:
                raise MalformedResource(f"entry.{index}.resource.{exc.field}", exc.message) from None
        elif resource is None and isinstance(entry.get("fullUrl"), str):
            match = re.search(r"Appointment/([A-Za-z0-9\-.]{1,64})(?:/_history/.*)?$", entry["fullUrl"])
            if match:
                found.append(match.group(1))
    return found


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _name(resource) -> str:
    for name in resource.name or []:
        if name.text:
            return name.text
        parts = [*(name.given or []), name.family or ""]
        if any(parts):
            return " ".join(part for part in parts if part)
    return ""


def _ref_id(reference, resource_type: str) -> str:
    """"Practitioner/12" (or a full URL ending so) → "12"; anything else → ""."""
    if reference is None or not reference.reference:
        return ""
    parts = reference.reference.rstrip("/").split("/")
    return parts[-1] if len(parts) >= 2 and parts[-2] == resource_type else ""


def _coding(concept) -> Coding | None:
    for coding in concept.coding or []:
        if coding.code:
            return Coding(code=coding.code, name=coding.display or concept.text or coding.code)
    return Coding(code=concept.text, name=concept.text) if concept.text else None


class FhirR4Adapter(MisAdapter):
    name = "fhir-r4"

    def __init__(self, *, base_url: str, token: str = "", username: str = "", password: str = "",
                 timeout: float = 10, transport: httpx.BaseTransport | None = None):
        headers = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        auth = httpx.BasicAuth(username, password) if username and not token else None
        self.client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, auth=auth,
                                   timeout=timeout, transport=transport)

    # --- the wire ---------------------------------------------------------------------------------------

    def _request(self, method: str, url: str, *, params=None, json=None, headers=None) -> dict:
        try:
            response = self.client.request(method, url, params=params, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise MisUnavailable(f"{method} {url.split('?')[0]}: {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code in (408, 409, 412, 429):
            raise MisUnavailable(f"{method} {url.split('?')[0]}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise MisRefused(f"{method} {url.split('?')[0]}: HTTP {response.status_code}")
        try:
            return response.json() if response.content else {}
        except ValueError:
            raise MisRefused(f"{method} {url.split('?')[0]}: the answer is not JSON") from None

    def _search(self, resource_type: str, params: dict) -> list[dict]:
        """Every resource of a search, following the Bundle's next links."""
        found, url, query = [], resource_type, {"_count": "100", **params}
        for _page in range(MAX_PAGES):
            bundle = self._request("GET", url, params=query)
            found += [entry["resource"] for entry in bundle.get("entry") or []
                      if isinstance(entry.get("resource"), dict)
                      and entry["resource"].get("resourceType") == resource_type]
            url = next((link.get("url") for link in bundle.get("link") or [] if link.get("relation") == "next"), None)
            if not url:
                break
            query = None
        return found

    @staticmethod
    def _valid(model, resource: dict, keep: tuple[str, ...]):
        """The resource as a model, or None (logged by id) when the MIS sent something we cannot read."""
        clean = {key: resource[key] for key in keep if key in resource}
        try:
            return model.model_validate(clean)
        except ValidationError as exc:
            log.warning("skipped %s/%s from the MIS: %s", resource.get("resourceType"), resource.get("id"),
                        "; ".join(".".join(map(str, e["loc"])) for e in exc.errors()))
            return None

    def _all(self, model, keep: tuple[str, ...], params: dict | None = None) -> list:
        resources = self._search(model.__name__, params or {})
        return [one for one in (self._valid(model, r, ("resourceType", "id", *keep)) for r in resources) if one]

    # --- reference data -----------------------------------------------------------------------------------

    def reference_data(self) -> ReferenceData:
        data = ReferenceData()
        for practitioner in self._all(Practitioner, ("active", "name")):
            data.practitioners.append(MisPractitioner(practitioner.id, _name(practitioner) or practitioner.id,
                                                      practitioner.active is not False))
        for location in self._all(Location, ("status", "name")):
            data.locations.append(MisLocation(location.id, location.name or location.id,
                                              location.status in (None, "active")))
        for role in self._all(PractitionerRole, ("active", "practitioner", "specialty", "location")):
            specialties = tuple(filter(None, map(_coding, role.specialty or [])))
            locations = tuple(filter(None, (_ref_id(ref, "Location") for ref in role.location or [])))
            data.roles.append(MisRole(role.id, _ref_id(role.practitioner, "Practitioner"), specialties, locations,
                                      role.active is not False))
        for service in self._all(HealthcareService, ("active", "name", "specialty")):
            specialty = next(filter(None, map(_coding, service.specialty or [])), None)
            data.services.append(MisService(service.id, service.name or service.id, specialty,
                                            service.active is not False))
        roles = {role.mis_id: role for role in data.roles}
        for schedule in self._all(Schedule, ("active", "actor")):
            practitioner = location = ""
            for actor in schedule.actor:
                practitioner = practitioner or _ref_id(actor, "Practitioner")
                location = location or _ref_id(actor, "Location")
                role = roles.get(_ref_id(actor, "PractitionerRole"))
                if role:
                    practitioner = practitioner or role.practitioner_id
                    location = location or (role.location_ids[0] if len(role.location_ids) == 1 else "")
            if practitioner:
                data.schedules.append(MisSchedule(schedule.id, practitioner, location, schedule.active is not False))
        return data

    # --- slots ---------------------------------------------------------------------------------------------

    def free_slots(self, *, schedule_ids: list[str], start: datetime, end: datetime) -> list[MisSlot]:
        if not schedule_ids:
            return []
        params = {"schedule": ",".join(f"Schedule/{mis_id}" for mis_id in schedule_ids), "status": "free",
                  "start": [f"ge{instant(start)}", f"lt{instant(end)}"]}
        slots = []
        for slot in self._all(Slot, ("schedule", "status", "start", "end", "serviceType"), params):
            if slot.status != "free" or not (start <= slot.start < end):
                continue  # a server that ignores a search parameter must not book us into a busy slot
            codes = tuple(coding.code for concept in slot.serviceType or [] for coding in concept.coding or []
                          if coding.code)
            slots.append(MisSlot(slot.id, _ref_id(slot.schedule, "Schedule"), slot.start, slot.end, codes))
        return sorted(slots, key=lambda slot: slot.starts_at)

    # --- patients and appointments ---------------------------------------------------------------------------

    def patient_find_or_create(self, patient: PatientDemographics) -> str:
        identifier = f"{PATIENT_SYSTEM}|{patient.local_id}"
        found = self._search("Patient", {"identifier": identifier})
        if not found and patient.phone:
            by_phone = self._search("Patient", {"phone": patient.phone})
            found = by_phone if len(by_phone) == 1 else []  # two people on one phone: a new record, not a guess
        if found:
            return found[0]["id"]
        resource = {"resourceType": "Patient", "identifier": [{"system": PATIENT_SYSTEM,
                                                                 "value": str(patient.local_id)}],
                    "name": [{"text": patient.full_name}] if patient.full_name else None,
                    "telecom": [{"system": "phone", "value": patient.phone}] if patient.phone else None,
                    "birthDate": patient.birth_date.isoformat() if patient.birth_date else None,
                    "gender": patient.gender or None}
        created = self._create(Patient, resource, if_none_exist=f"identifier={identifier}")
        return created["id"]

    def _create(self, model, resource: dict, *, if_none_exist: str) -> dict:
        body = model.model_validate({k: v for k, v in resource.items() if v is not None}).model_dump(
            mode="json", exclude_none=True)
        created = self._request("POST", model.__name__, json=body, headers={"If-None-Exist": if_none_exist})
        if not FHIR_ID.match(str(created.get("id", ""))):
            raise MisRefused(f"POST {model.__name__}: no id in the answer")
        return created

    def appointment_create(self, request: AppointmentRequest) -> str:
        actors = [f"Patient/{request.patient_id}", f"Practitioner/{request.practitioner_id}"]
        if request.location_id:
            actors.append(f"Location/{request.location_id}")
        resource = {
            "resourceType": "Appointment", "status": "booked",
            "identifier": [{"system": APPOINTMENT_SYSTEM, "value": str(request.local_id)}],
            "start": instant(request.starts_at), "end": instant(request.ends_at),
            "minutesDuration": int((request.ends_at - request.starts_at).total_seconds() // 60),
            "slot": [{"reference": f"Slot/{request.slot_id}"}] if request.slot_id else None,
            "participant": [{"actor": {"reference": actor}, "status": "accepted", "required": "required"}
                            for actor in actors],
        }
        created = self._create(Appointment, resource,
                               if_none_exist=f"identifier={APPOINTMENT_SYSTEM}|{request.local_id}")
        return created["id"]

    def _put(self, resource: dict) -> None:
        # The MIS's own copy goes back whole (its clinical elements included: they are the MIS's, we only pass
        # them through memory). If-Match: an edit made in the MIS meanwhile fails with 412 and is retried.
        version = (resource.get("meta") or {}).get("versionId")
        headers = {"If-Match": f'W/"{version}"'} if version else None
        self._request("PUT", f"Appointment/{resource['id']}", json=resource, headers=headers)

    def _read(self, mis_id: str) -> dict:
        if not FHIR_ID.match(mis_id):
            raise MisRefused("not a FHIR id")
        return self._request("GET", f"Appointment/{mis_id}")

    def appointment_update(self, mis_id: str, *, starts_at: datetime, ends_at: datetime, slot_id: str = "") -> None:
        resource = self._read(mis_id)
        changes = {"start": instant(starts_at), "end": instant(ends_at),
                   "minutesDuration": int((ends_at - starts_at).total_seconds() // 60)}
        if slot_id:
            changes["slot"] = [{"reference": f"Slot/{slot_id}"}]
        if all(resource.get(key) == value for key, value in changes.items()):
            return
        self._put({**resource, **changes})

    def appointment_cancel(self, mis_id: str) -> None:
        resource = self._read(mis_id)
        if resource.get("status") != "cancelled":
            self._put({**resource, "status": "cancelled"})

    def appointment_get(self, mis_id: str) -> MisAppointment:
        try:
            return appointment_from_fhir(self._read(mis_id))
        except MalformedResource as exc:
            raise MisRefused(f"Appointment/{mis_id}: {exc.field} {exc.message}") from None

    def appointments_changed_since(self, since: datetime) -> list[MisAppointment]:
        # ge, not gt: two changes in the same millisecond at the cursor are both seen; applying one twice is
        # harmless, missing one is not.
        resources = self._search("Appointment", {"_lastUpdated": f"ge{instant(since)}", "_sort": "_lastUpdated"})
        changed = []
        for resource in resources:
            try:
                changed.append(appointment_from_fhir(resource))
            except MalformedResource as exc:
                log.warning("skipped Appointment/%s from the MIS: %s", resource.get("id"), exc.field)
        return sorted(changed, key=lambda a: a.updated_at or since)
