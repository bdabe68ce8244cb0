"""`clinicflow mis-sim`: a small FHIR R4 server that plays the clinic's MIS in demos.

It knows practitioners, locations, schedules and free slots, takes bookings, and after each visit's end
marks it fulfilled (about 80 %) or noshow (about 15 %; the rest stay booked, as when a doctor forgets to
close a visit), then tells clinicflow through its webhook. Only the searches clinicflow makes are
understood. A demo tool kept in memory: correctness is proven against an independent FHIR server in tests.
"""

import json
import logging
import random
import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx

log = logging.getLogger("clinicflow.mis.sim")
DEMO_DOCTORS = ["Dr. Anna Petrova", "Dr. Sergey Ivanov", "Dr. Olga Smirnova", "Dr. Pavel Kuznetsov"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FhirStore:
    """Resources by type and id, each with meta.lastUpdated. One lock: the web threads and the clock share it."""

    def __init__(self):
        self.resources: dict[str, dict[str, dict]] = {}
        self.lock = threading.RLock()

    def save(self, resource: dict) -> dict:
        with self.lock:
            resource = {**resource, "id": resource.get("id") or uuid.uuid4().hex[:12],
                        "meta": {"versionId": uuid.uuid4().hex[:8], "lastUpdated": _now()}}
            self.resources.setdefault(resource["resourceType"], {})[resource["id"]] = resource
            return resource

    def get(self, resource_type: str, mis_id: str) -> dict | None:
        return self.resources.get(resource_type, {}).get(mis_id)

    def all(self, resource_type: str) -> list[dict]:
        with self.lock:
            return list(self.resources.get(resource_type, {}).values())

    def search(self, resource_type: str, query: dict[str, list[str]]) -> list[dict]:
        found = [r for r in self.all(resource_type) if all(_matches(r, name, values) for name, values
                                                           in query.items() if not name.startswith("_count"))]
        return sorted(found, key=lambda r: r["meta"]["lastUpdated"])


def _compare(value: str, condition: str) -> bool:
    prefix, wanted = (condition[:2], condition[2:]) if condition[:2] in ("ge", "gt", "lt", "le") else ("eq", condition)
    left, right = _moment(value), _moment(wanted)
    return {"ge": left >= right, "gt": left > right, "lt": left < right, "le": left <= right,
            "eq": left == right}[prefix]


def _matches(resource: dict, name: str, values: list[str]) -> bool:
    """The few search parameters clinicflow uses; an unknown one matches everything."""
    for value in values:
        if name == "_lastUpdated" and not _compare(resource["meta"]["lastUpdated"], value):
            return False
        if name == "start" and not _compare(resource.get("start", "1970-01-01T00:00:00Z"), value):
            return False
        if name == "status" and resource.get("status") not in value.split(","):
            return False
        if name == "schedule" and resource.get("schedule", {}).get("reference") not in value.split(","):
            return False
        if name == "identifier" and value not in {f"{i.get('system')}|{i.get('value')}"
                                                  for i in resource.get("identifier", [])}:
            return False
        if name in ("phone", "name") and not any(value in json.dumps(resource.get(field, []), ensure_ascii=False)
                                                 for field in ("telecom", "name")):
            return False
    return True


class Simulator:
    def __init__(self, *, webhook_url: str = "", webhook_token: str = "", token: str = "", seed: int = 7):
        self.store = FhirStore()
        self.webhook_url, self.webhook_token, self.token = webhook_url, webhook_token, token
        self.rng = random.Random(seed)

    # --- the clinic ---------------------------------------------------------------------------------------

    def populate(self, doctors: list[tuple[str, list[str]]], *, zone: str = "Europe/Moscow", days: int = 14) -> None:
        """Practitioners (name, location names) with a schedule per location and 30-minute slots, 9 to 18."""
        locations: dict[str, dict] = {}
        for name, places in doctors or [(name, ["Main branch"]) for name in DEMO_DOCTORS]:
            practitioner = self.store.save({"resourceType": "Practitioner", "active": True, "name": [{"text": name}]})
            for place in places or ["Main branch"]:
                location = locations.get(place) or self.store.save(
                    {"resourceType": "Location", "status": "active", "name": place})
                locations[place] = location
                self.store.save({"resourceType": "PractitionerRole", "active": True,
                                 "practitioner": {"reference": f"Practitioner/{practitioner['id']}"},
                                 "location": [{"reference": f"Location/{location['id']}"}]})
                schedule = self.store.save({"resourceType": "Schedule", "active": True, "actor": [
                    {"reference": f"Practitioner/{practitioner['id']}"},
                    {"reference": f"Location/{location['id']}"}]})
                self._slots(schedule["id"], ZoneInfo(zone), days)

    def _slots(self, schedule_id: str, zone: ZoneInfo, days: int) -> None:
        today = date.today()
        for offset in range(days):
            day = today + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            start = datetime.combine(day, time(9), zone)
            for n in range(18):
                begins = (start + timedelta(minutes=30 * n)).astimezone(UTC)
                self.store.save({"resourceType": "Slot", "status": "free",
                                 "schedule": {"reference": f"Schedule/{schedule_id}"},
                                 "start": begins.isoformat().replace("+00:00", "Z"),
                                 "end": (begins + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")})

    # --- bookings ----------------------------------------------------------------------------------------

    def create(self, resource: dict, if_none_exist: str) -> tuple[int, dict]:
        with self.store.lock:
            if if_none_exist.startswith("identifier="):
                found = self.store.search(resource["resourceType"], {"identifier": [if_none_exist[11:]]})
                if found:
                    return 200, found[0]
            created = self.store.save(resource)
            if created["resourceType"] == "Appointment":
                self._hold_slots(created, "busy")
            return 201, created

    def update(self, resource: dict) -> dict:
        with self.store.lock:
            before = self.store.get(resource["resourceType"], resource["id"])
            if before and resource["resourceType"] == "Appointment":
                self._hold_slots(before, "free")
            saved = self.store.save(resource)
            if saved["resourceType"] == "Appointment" and saved.get("status") != "cancelled":
                self._hold_slots(saved, "busy")
            return saved

    def _hold_slots(self, appointment: dict, status: str) -> None:
        for reference in appointment.get("slot", []):
            slot = self.store.get("Slot", reference.get("reference", "").split("/")[-1])
            if slot:
                self.store.save({**slot, "status": status})

    def close_past_visits(self) -> int:
        """Give every booked visit that has ended its outcome, and tell clinicflow. Returns how many."""
        closed = 0
        for appointment in self.store.search("Appointment", {"status": ["booked"]}):
            if appointment.get("_sim_seen") or _moment(appointment["end"]) > datetime.now(UTC):
                continue
            roll = self.rng.random()
            status = "fulfilled" if roll < 0.80 else "noshow" if roll < 0.95 else "booked"
            saved = self.update({**appointment, "status": status, "_sim_seen": True})
            if status != "booked":
                self.notify(saved)
                closed += 1
        return closed

    def notify(self, appointment: dict) -> None:
        if not self.webhook_url:
            return
        body = {key: value for key, value in appointment.items() if not key.startswith("_")}
        try:
            httpx.post(self.webhook_url, json=body, timeout=10,
                       headers={"Authorization": f"Bearer {self.webhook_token}"})
        except httpx.HTTPError as exc:
            log.warning("webhook to clinicflow failed (%s); its poll will catch up", type(exc).__name__)

    def run_clock(self, stopping: threading.Event, every: float) -> None:
        while not stopping.wait(every):
            self.close_past_visits()

    # --- HTTP ----------------------------------------------------------------------------------------------

    def server(self, host: str, port: int) -> ThreadingHTTPServer:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002  (the stdlib's name)
                log.debug(format, *args)

            def _answer(self, status: int, body: dict | None = None) -> None:
                payload = json.dumps({k: v for k, v in (body or {}).items() if not k.startswith("_")}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _route(self) -> tuple[list[str], dict] | None:
                if simulator.token and self.headers.get("Authorization") != f"Bearer {simulator.token}":
                    self._answer(401, {"resourceType": "OperationOutcome"})
                    return None
                parts = urlsplit(self.path)
                path = [p for p in parts.path.split("/") if p]
                return (path[1:] if path[:1] == ["fhir"] else path), parse_qs(parts.query)

            def _body(self) -> dict:
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

            def do_GET(self):  # noqa: N802
                routed = self._route()
                if routed is None:
                    return
                path, query = routed
                if path == ["metadata"]:
                    return self._answer(200, {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
                                              "status": "active", "kind": "instance"})
                if len(path) == 1:
                    found = simulator.store.search(path[0], query)
                    return self._answer(200, {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                                              "entry": [{"resource": r} for r in found]})
                if len(path) == 2 and (found := simulator.store.get(*path)):
                    return self._answer(200, found)
                self._answer(404, {"resourceType": "OperationOutcome"})

            def do_POST(self):  # noqa: N802
                routed = self._route()
                if routed is None:
                    return
                path, _query = routed
                body = self._body()
                if len(path) != 1 or body.get("resourceType") != path[0]:
                    return self._answer(400, {"resourceType": "OperationOutcome"})
                self._answer(*simulator.create(body, self.headers.get("If-None-Exist", "")))

            def do_PUT(self):  # noqa: N802
                routed = self._route()
                if routed is None:
                    return
                path, _query = routed
                body = self._body()
                if len(path) != 2 or body.get("id") != path[1] or not simulator.store.get(*path):
                    return self._answer(400, {"resourceType": "OperationOutcome"})
                self._answer(200, simulator.update(body))

        return ThreadingHTTPServer((host, port), Handler)
