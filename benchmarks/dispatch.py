"""Benchmark of outbound messaging: 10,000 reminders due at once, sent by two `clinicflow worker` processes to a
fake SMS provider over HTTP; messages/s, lost and duplicates, also with one worker killed -9 mid-run.

    .venv/bin/python benchmarks/dispatch.py [--tiny] [--messages 10000] [--workers 2] [--latency-ms 5]
                                            [--database-url URL] [--keep]

Creates its own database (the way benchmarks/queue.py does, whose helpers it uses) and seeds a branch, 50
doctors and --messages patients, each with a mobile phone, confirmed consents (processing, service
messages) and a visit in the coming days. A fake SMS.ru (a threading HTTP server in this process, on
127.0.0.1, answering /sms/send in SMS.ru's documented JSON, after --latency-ms) records every SMS it takes:
the number and the text. clinicflow sends to it through CLINICFLOW_SMSRU_API_BASE, with the real channel
module (clinicflow/channels/sms_smsru.py). Then, each time with --workers worker processes (the `worker`
management command, what `clinicflow worker` runs; the lease is 10 s, so that a killed worker's jobs are
taken over within the run):

- baseline: --messages jobs whose handler makes one INSERT (the bare job engine, as benchmarks/jobs.py);
- send: one reminder per visit queued with `message_queue` (as the reminder robot does), all due now,
  before the workers start; timed from the provider's first SMS to its last;
- kill -9: a second reminder per visit, and one worker is killed with SIGKILL once a third has gone out.

Lost: a reminder the provider never got, or one not marked sent. Duplicates: SMS the provider got more than
once for one reminder. SMS.ru and Twilio take no idempotency key, so a worker killed between the provider's
answer and the outbox's "sent" sends that message again when its job is taken over: the kill -9 run reports
such duplicates and does not fail on them (at most one per killed worker). Exits 1 when a message is lost,
when a run without a kill sends one twice, or (full size, PostgreSQL) under 500 messages/s.

--tiny (what CI runs) does the same with 200 messages in seconds, and judges only lost and duplicates. On
SQLite the runs have one worker (SQLite has one writer; a second worker mostly waits for it), which the
table says.
"""

import argparse
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder would come first on sys.path, and its queue.py would shadow the standard
# library's `queue` (which Django imports). Put the project root there instead.
sys.path[0] = str(ROOT)

SIZES = {"full": 10_000, "tiny": 200}
GOAL_PER_SECOND = 500.0
DOCTORS = 50
KIND = "bench.insert"
POLL_SECONDS = 1.0
LEASE_SECONDS = 10
RUN_LIMIT_SECONDS = 900
THREADS = 4


from benchmarks.support import database_description  # noqa: E402  (after sys.path is set)


def queue_benchmark():
    """benchmarks/queue.py, for its database helpers (create and drop a database of the run's own)."""
    spec = importlib.util.spec_from_file_location("queue_benchmark", ROOT / "benchmarks" / "queue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(default_url: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help=f"the CI size: {SIZES['tiny']} messages")
    parser.add_argument("--messages", type=int, help=f"reminders per run (default {SIZES['full']:,})")
    parser.add_argument("--workers", type=int, help="worker processes (default 2; 1 on SQLite)")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help=f"CLINICFLOW_JOB_THREADS of each worker (default {THREADS}; PostgreSQL only)")
    parser.add_argument("--latency-ms", type=float, default=5.0, help="the fake provider's time per SMS")
    parser.add_argument("--database-url", default=default_url,
                        help="PostgreSQL URL, or sqlite:// for SQLite in a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--profile", help="write a cProfile of worker 0 of the send run to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run as one of the worker processes
    args = parser.parse_args()
    if args.messages is None:
        args.messages = SIZES["tiny" if args.tiny else "full"]
    if args.messages < 10 or (args.workers is not None and args.workers < 1):
        parser.error("--messages must be at least 10 and --workers at least 1")
    return args


# --- the fake SMS provider ---------------------------------------------------------------------------

class FakeSmsRu:
    """SMS.ru's /sms/send on 127.0.0.1: answers as its documentation shows, after `latency` seconds, and
    records (number, text) of every SMS it takes."""

    def __init__(self, latency: float):
        self.latency = latency
        self.lock = threading.Lock()
        self.received: list[tuple[str, str, float]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None  # a killed worker's connection resets: expected here
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeSmsRu":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def clear(self) -> None:
        with self.lock:
            self.received.clear()

    def take(self, form: dict) -> dict:
        if self.latency:
            time.sleep(self.latency)
        if form.get("api_id") != API_ID or not form.get("to") or not form.get("msg"):
            return {"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"}
        with self.lock:
            self.received.append((form["to"], form["msg"], time.time()))
            number = len(self.received)
        return {"status": "OK", "status_code": 100, "balance": 4122.56,
                "sms": {form["to"]: {"status": "OK", "status_code": 100, "sms_id": f"000000-{number:08d}"}}}

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real API over HTTPS would be used
            # Headers and body go out in two writes: with Nagle's algorithm the body would wait for the
            # client's delayed ACK (~40 ms), which no real provider makes us wait.
            disable_nagle_algorithm = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = json.dumps(provider.take(dict(parse_qsl(body.decode())))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        return Handler


API_ID = "BENCH0000-0000-0000-0000-000000000000"


def provider_settings(url: str, threads: int) -> dict:
    """The environment that points clinicflow's SMS at the fake provider (settings are read at import)."""
    return {"CLINICFLOW_JOB_THREADS": str(threads),
            "CLINICFLOW_SMS_PROVIDER": "sms/smsru", "CLINICFLOW_SMSRU_API_ID": API_ID,
            "CLINICFLOW_SMSRU_API_BASE": url,
            # Messages at any hour, so the benchmark gives the same numbers at night.
            "CLINICFLOW_SEND_HOURS": "00:00-23:59:59.999999",
            "CLINICFLOW_JOB_LEASE_SECONDS": str(LEASE_SECONDS)}


# --- the workers ---------------------------------------------------------------------------------------

def register_handler() -> None:
    from django.utils import timezone

    from clinicflow.automation.registry import job_handler
    from clinicflow.core.models import RateLimitWindow

    @job_handler(KIND)
    def insert(job):
        # One INSERT per run: the key counts runs (several per job would be duplicates), the time is the start.
        RateLimitWindow.objects.create(key=f"{KIND}:{job.pk}:{job.attempts}:{os.getpid()}",
                                       window_start=timezone.now())


def worker_process(name: str, profile: str | None) -> int:
    """One worker: the `worker` management command (what `clinicflow worker` runs), plus the baseline's kind."""
    import django

    django.setup()
    from django.core.management import call_command

    register_handler()
    if not profile:
        call_command("worker", name=name, poll=POLL_SECONDS)
        return 0
    import cProfile

    profiler = cProfile.Profile()
    profiler.runcall(call_command, "worker", name=name, poll=POLL_SECONDS)
    profiler.dump_stats(profile)
    return 0


def start_workers(count: int, profile: str | None = None) -> list[subprocess.Popen]:
    from clinicflow.automation.models import WorkerHeartbeat

    WorkerHeartbeat.objects.all().delete()
    workers = []
    for n in range(count):
        extra = ["--profile", profile] if profile and n == 0 else []
        workers.append(subprocess.Popen([sys.executable, __file__, "--worker", f"bench-{n}", *extra],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        _out, errors = worker.communicate(timeout=120)
        if worker.returncode not in (0, -signal.SIGKILL):
            print(errors, file=sys.stderr)


# --- the data set --------------------------------------------------------------------------------------

def seed(count: int) -> list:
    """`count` patients with a mobile phone, consents and a visit each; returns the visits."""
    from django.utils import timezone

    from clinicflow.clinic.models import Branch, Doctor
    from clinicflow.compliance.models import Consent
    from clinicflow.patients.models import Channel, Patient, PatientIdentity
    from clinicflow.scheduling.models import Appointment

    now = timezone.now()
    branch = Branch.objects.create(name="Moscow, Tverskaya", time_zone="Europe/Moscow", holiday_country="RU",
                                   address="Tverskaya 1", phone="+74951234567")
    doctors = Doctor.objects.bulk_create([Doctor(full_name=f"Doctor {n}") for n in range(DOCTORS)])
    patients = Patient.objects.bulk_create([Patient(full_name=f"Ivanova Anna {n}", branch=branch)
                                            for n in range(count)], batch_size=2000)
    PatientIdentity.objects.bulk_create([PatientIdentity(patient=p, channel=Channel.PHONE,
                                                         address=f"+7916{n:07d}") for n, p in enumerate(patients)],
                                        batch_size=2000)
    Consent.objects.bulk_create([Consent(patient=p, purpose=purpose, source="bench", given_at=now, confirmed_at=now)
                                 for p in patients for purpose in (Consent.Purpose.PROCESSING,
                                                                   Consent.Purpose.SERVICE)], batch_size=2000)
    # Visits from two days ahead, every doctor's slots in a row: far enough for a reminder (the lead time).
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    visits = Appointment.objects.bulk_create([
        Appointment(patient=p, doctor=doctors[n % DOCTORS], branch=branch,
                    starts_at=start + timedelta(minutes=15 * (n // DOCTORS)),
                    ends_at=start + timedelta(minutes=15 * (n // DOCTORS) + 15))
        for n, p in enumerate(patients)], batch_size=2000)
    analyze()
    return visits


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def queue_reminders(round_name: str) -> float:
    """One reminder per visit, queued by `message_queue` as the reminder robot does; returns seconds taken."""
    from django.db import transaction

    from clinicflow.messaging.models import Purpose
    from clinicflow.messaging.services import message_queue
    from clinicflow.patients.models import Channel
    from clinicflow.scheduling.models import Appointment

    started = time.monotonic()
    visits = Appointment.objects.select_related("branch", "doctor", "patient").prefetch_related("patient__identities")
    ids = list(visits.values_list("pk", flat=True).order_by("pk"))
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            for visit in visits.filter(pk__in=ids[start:start + 500]):
                message_queue(patient=visit.patient, purpose=Purpose.REMINDER, channel=Channel.SMS,
                              appointment=visit, key=f"reminder:appointment:{visit.pk}:{round_name}")
    return time.monotonic() - started


# --- the runs ------------------------------------------------------------------------------------------

@dataclass
class Row:
    run: str
    workers: str
    rate: float
    unit: str
    lost: int
    duplicates: int
    seconds: float
    detail: str = ""


def wait_until(done, workers: list[subprocess.Popen], on_progress=None) -> None:
    deadline = time.monotonic() + RUN_LIMIT_SECONDS
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit("The run did not finish within its time limit.")
        if not any(w.poll() is None for w in workers):
            raise SystemExit("Every worker process has stopped.")
        if on_progress:
            on_progress()
        time.sleep(0.05)


def baseline(count: int, workers_count: int) -> Row:
    """The bare engine: `count` one-INSERT jobs due now, the same workers."""
    from django.db import transaction
    from django.db.models import Max, Min
    from django.utils import timezone

    from clinicflow.automation.models import Job
    from clinicflow.automation.services import jobs_wake
    from clinicflow.core.models import RateLimitWindow

    now = timezone.now()
    with transaction.atomic():
        Job.objects.bulk_create([Job(kind=KIND, due_at=now, idempotency_key=f"bench:{n}") for n in range(count)],
                                batch_size=2000)
        jobs_wake()
    started = time.monotonic()
    workers = start_workers(workers_count)
    try:
        wait_until(lambda: not Job.objects.filter(kind=KIND).exclude(state__in=Job.FINISHED_STATES).exists(),
                   workers)
    finally:
        stop_workers(workers)
    seconds = time.monotonic() - started
    runs = Counter(key.split(":")[1] for key in RateLimitWindow.objects.filter(key__startswith=KIND)
                   .values_list("key", flat=True))
    done = Job.objects.filter(kind=KIND, state="done").count()
    span = RateLimitWindow.objects.filter(key__startswith=KIND).aggregate(first=Min("window_start"),
                                                                           last=Max("window_start"))
    rate = count / max((span["last"] - span["first"]).total_seconds(), 1e-3) if span["first"] else 0.0
    return Row("one-INSERT jobs (baseline)", str(workers_count), rate, "jobs/s", count - min(done, len(runs)),
               sum(n - 1 for n in runs.values()), seconds)


def send(provider: FakeSmsRu, round_name: str, count: int, workers_count: int, *, kill: bool,
         profile: str | None = None) -> tuple[Row, float]:
    """Queue a reminder per visit, start the workers, time until every one is sent. Returns the row and the
    seconds queueing took."""
    from clinicflow.messaging.models import OutboundMessage

    mine = OutboundMessage.objects.filter(idempotency_key__endswith=f":{round_name}")
    provider.clear()
    queued_in = queue_reminders(round_name)
    started = time.monotonic()
    workers = start_workers(workers_count, profile)
    killed: list[int] = []

    def kill_one_a_third_in():
        if kill and not killed and len(provider.received) >= count // 3:
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(len(provider.received))

    try:
        wait_until(lambda: not mine.filter(status=OutboundMessage.Status.QUEUED).exists(), workers,
                   kill_one_a_third_in)
    finally:
        stop_workers(workers)
    seconds = time.monotonic() - started
    with provider.lock:
        received = list(provider.received)
    numbers = Counter(to for to, _text, _at in received)
    expected = {to.lstrip("+") for to in mine.values_list("to", flat=True)}
    not_sent = mine.exclude(status=OutboundMessage.Status.SENT).count()
    lost = max(len(expected - set(numbers)), not_sent)
    duplicates = sum(n - 1 for n in numbers.values())
    span = received[-1][2] - received[0][2] if len(received) > 1 else float("inf")
    label = "reminders by SMS, one worker killed -9 a third in" if kill else "reminders by SMS"
    detail = (f"killed after {killed[0]:,} of {count:,}; its jobs taken over after the {LEASE_SECONDS} s lease"
              if killed else "")
    return Row(label, str(workers_count), count / max(span, 1e-3), "messages/s", lost, duplicates, seconds,
               detail), queued_in


def run(args, provider: FakeSmsRu) -> int:
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    workers = args.workers or (2 if postgres else 1)
    visits = seed(args.messages)
    rows = [baseline(len(visits), workers)]
    sent, queued_in = send(provider, "24h", len(visits), workers, kill=False, profile=args.profile)
    rows.append(sent)
    killed, _ = send(provider, "2h", len(visits), workers, kill=workers > 1)
    rows.append(killed)
    print(f"\n{database_description()}; {len(visits):,} reminders per run, fake SMS.ru answering in "
          f"{args.latency_ms:g} ms; queueing them with message_queue took {queued_in:.1f} s "
          f"({len(visits) / queued_in:,.0f}/s).\n")
    print(table(rows))
    problems = []
    for row in rows:
        if row.lost:
            problems.append(f"{row.run}: {row.lost} lost")
        if row.duplicates and "killed" not in row.run:
            problems.append(f"{row.run}: {row.duplicates} sent twice")
    if killed.duplicates:
        print(f"\nnote: {killed.duplicates} SMS sent twice after the kill: SMS.ru (and Twilio) take no idempotency "
              "key, so a message whose provider call had gone out when its worker died is sent again.")
    if postgres and sent.rate < GOAL_PER_SECOND:
        problem = f"{sent.rate:,.0f} messages/s, under the goal of {GOAL_PER_SECOND:g}"
        if args.tiny:
            print(f"note (not judged at --tiny): {problem}")
        else:
            problems.append(problem)
    for problem in problems:
        print(f"FAIL: {problem}")
    if not problems:
        print("\nOK: every reminder was sent, none twice without a kill.")
    return 1 if problems else 0


def table(rows: list[Row]) -> str:
    baseline_rate = rows[0].rate
    lines = ["| Run | Workers | Result | × baseline | Lost | Duplicates | Wall time | Note |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        ratio = row.rate / baseline_rate if baseline_rate else float("nan")
        lines.append(f"| {row.run} | {row.workers} | {row.rate:,.1f} {row.unit} | {ratio:.2f} | {row.lost} | "
                     f"{row.duplicates} | {row.seconds:.1f} s | {row.detail} |")
    return "\n".join(lines)


def main() -> int:
    helpers = queue_benchmark()
    args = parse_args(helpers.DEFAULT_URL.replace("clinicflow_bench", "clinicflow_dispatch_bench"))
    if args.worker:
        return worker_process(args.worker, args.profile)
    url = helpers.benchmark_database_url(args.database_url)
    helpers.recreate_database(url)
    data_dir = tempfile.mkdtemp(prefix="clinicflow-dispatch-bench-")
    provider = FakeSmsRu(args.latency_ms / 1000).start()
    os.environ.update(provider_settings(provider.url, args.threads))
    try:
        helpers.start_django(url, data_dir)
        register_handler()
        return run(args, provider)
    finally:
        provider.stop()
        if not args.keep:
            helpers.drop_database(url)
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
