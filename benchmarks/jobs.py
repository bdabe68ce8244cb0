"""Benchmark of the job engine: throughput of two worker processes, and enqueue-to-start latency.

    .venv/bin/python benchmarks/jobs.py [--tiny] [--jobs 10000] [--samples 30] [--database-url URL] [--keep]

Creates its own database (the way benchmarks/queue.py does, whose helpers it uses), then:

- throughput: starts two worker processes (`Worker.run_forever`, as `clinicflow worker` runs it), plans
  --jobs jobs due now in one transaction and times until every one is done. Each job's handler makes one
  INSERT, which is also how lost and duplicate runs are counted. On PostgreSQL twice: claiming one job at
  a time with the conditional UPDATE (the baseline, CLINICFLOW_JOB_CLAIM_BATCH=1) and in batches of 10
  with SELECT … FOR UPDATE SKIP LOCKED (the default); SQLite has only the first;
- latency: with the two workers idle, plans --samples jobs due now one by one (a quarter second apart)
  and measures from planning to the handler's start. Polling every 2 s (the default interval; the
  baseline, CLINICFLOW_JOB_NOTIFY=false) and, on PostgreSQL, woken by LISTEN/NOTIFY.

Exits 1 when a job is lost or runs twice, or (full size, PostgreSQL) when the median NOTIFY latency is
100 ms or more. --tiny (what CI runs) does the same with 300 jobs and 4 samples, in seconds, and judges
only lost and duplicate runs.
"""

import argparse
import importlib.util
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder would come first on sys.path, and its queue.py would shadow the standard
# library's `queue` (which Django imports). Put the project root there instead.
sys.path[0] = str(ROOT)

SIZES = {"full": {"jobs": 10_000, "samples": 30}, "tiny": {"jobs": 300, "samples": 4}}
KIND = "bench.insert"
POLL_SECONDS = 2.0
LATENCY_LIMIT_MS = 100.0


from benchmarks.support import database_description  # noqa: E402  (after sys.path is set)


def queue_benchmark():
    """benchmarks/queue.py, for its database helpers (create and drop a database of the run's own)."""
    spec = importlib.util.spec_from_file_location("queue_benchmark", ROOT / "benchmarks" / "queue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(default_url: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="the CI size: 300 jobs, 4 latency samples")
    parser.add_argument("--jobs", type=int, help=f"jobs for the throughput run (default {SIZES['full']['jobs']:,})")
    parser.add_argument("--samples", type=int, help=f"latency samples (default {SIZES['full']['samples']})")
    parser.add_argument("--database-url", default=default_url,
                        help="PostgreSQL URL, or sqlite:// for SQLite in a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run as one of the worker processes
    args = parser.parse_args()
    for key, value in SIZES["tiny" if args.tiny else "full"].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.jobs < 1 or args.samples < 1:
        parser.error("--jobs and --samples must be at least 1")
    return args


def register_handler() -> None:
    from django.utils import timezone

    from clinicflow.automation.registry import job_handler
    from clinicflow.core.models import RateLimitWindow

    @job_handler(KIND)
    def insert(job):
        # One INSERT per run; the key counts runs (several per job would be duplicates), the time is the start.
        RateLimitWindow.objects.create(key=f"{KIND}:{job.pk}:{job.attempts}:{os.getpid()}",
                                       window_start=timezone.now())


def worker_process(name: str) -> int:
    import django

    django.setup()
    from clinicflow.automation.worker import Worker

    register_handler()
    worker = Worker(name=name, poll_seconds=POLL_SECONDS)
    worker.next_periodic_check = float("inf")  # the engine's own chores would be counted as jobs
    worker.install_signal_handlers()
    worker.run_forever()
    return 0


# --- the runs ----------------------------------------------------------------------------------------

@dataclass
class Row:
    measurement: str
    setting: str
    value: float
    unit: str
    detail: str = ""


def start_workers(env: dict) -> list[subprocess.Popen]:
    from clinicflow.automation.models import WorkerHeartbeat

    WorkerHeartbeat.objects.all().delete()
    workers = [subprocess.Popen([sys.executable, __file__, "--worker", f"bench-{n}"], env={**os.environ, **env},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for n in range(2)]
    deadline = time.monotonic() + 60
    while WorkerHeartbeat.objects.count() < 2:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            stop_workers(workers)
            sys.exit("The worker processes did not start.")
        time.sleep(0.05)
    time.sleep(POLL_SECONDS + 0.5)  # each past its first rounds: idle, polling or listening
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        _out, errors = worker.communicate(timeout=60)
        if worker.returncode not in (0, None):
            print(errors, file=sys.stderr)


def clear() -> None:
    from clinicflow.automation.models import Job
    from clinicflow.core.models import RateLimitWindow

    Job.objects.all().delete()
    RateLimitWindow.objects.all().delete()


def runs_counted(expected: int) -> tuple[int, int]:
    """(lost, duplicates) among the bench jobs' runs."""
    from django.db.models import Count

    from clinicflow.automation.models import Job
    from clinicflow.core.models import RateLimitWindow

    per_job: dict[str, int] = {}
    for key in RateLimitWindow.objects.filter(key__startswith=KIND).values_list("key", flat=True):
        job_id = key.split(":")[1]
        per_job[job_id] = per_job.get(job_id, 0) + 1
    done = Job.objects.filter(kind=KIND, state="done").aggregate(n=Count("id"))["n"]
    return expected - min(done, len(per_job)), sum(n - 1 for n in per_job.values())


def throughput(jobs: int, batch: int) -> tuple[float, int, int]:
    from django.db import transaction
    from django.db.models import Max, Min
    from django.utils import timezone

    from clinicflow.automation.models import Job
    from clinicflow.automation.services import jobs_wake
    from clinicflow.core.models import RateLimitWindow

    clear()
    workers = start_workers({"CLINICFLOW_JOB_CLAIM_BATCH": str(batch)})
    try:
        now = timezone.now()
        started = time.monotonic()
        with transaction.atomic():
            Job.objects.bulk_create([Job(kind=KIND, due_at=now, idempotency_key=f"bench:{n}") for n in range(jobs)],
                                    batch_size=2000)
            jobs_wake()
        pending = Job.objects.exclude(state__in=Job.FINISHED_STATES)
        while pending.exists() and time.monotonic() - started < 600:
            time.sleep(0.05)
    finally:
        stop_workers(workers)
    lost, duplicates = runs_counted(jobs)
    # From the first job's start to the last one's: the engine's pace, not how soon the workers woke up.
    span = RateLimitWindow.objects.filter(key__startswith=KIND).aggregate(first=Min("window_start"),
                                                                           last=Max("window_start"))
    seconds = (span["last"] - span["first"]).total_seconds() if span["first"] else float("inf")
    return jobs / max(seconds, 1e-3), lost, duplicates


def latency(samples: int, notify: bool) -> tuple[list[float], int, int]:
    from django.utils import timezone

    from clinicflow.automation.models import Job
    from clinicflow.automation.services import job_plan
    from clinicflow.core.models import RateLimitWindow

    clear()
    workers = start_workers({"CLINICFLOW_JOB_NOTIFY": "true" if notify else "false"})
    try:
        for n in range(samples):
            job_plan(kind=KIND, due_at=timezone.now(), key=f"latency:{n}")
            time.sleep(0.25)
        deadline = time.monotonic() + 3 * POLL_SECONDS + 10
        while Job.objects.exclude(state__in=Job.FINISHED_STATES).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop_workers(workers)
    created = dict(Job.objects.filter(kind=KIND).values_list("pk", "created_at"))
    waits = [(window.window_start - created[int(window.key.split(":")[1])]).total_seconds() * 1000
             for window in RateLimitWindow.objects.filter(key__startswith=KIND)]
    lost, duplicates = runs_counted(samples)
    return waits, lost, duplicates


def exactly_once(label: str, lost: int, duplicates: int) -> list[str]:
    return ([f"{label}: {lost} job(s) lost"] if lost else []) + (
        [f"{label}: {duplicates} duplicate run(s)"] if duplicates else [])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(args) -> int:
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    problems: list[str] = []
    rows: list[Row] = []
    for label, batch in [("conditional UPDATE, one at a time", 1)] + (
            [("SKIP LOCKED, batches of 10", 10)] if postgres else []):
        rate, lost, duplicates = throughput(args.jobs, batch)
        rows.append(Row("throughput, 2 workers", label, rate, "jobs/s", f"lost {lost}, duplicates {duplicates}"))
        problems += exactly_once(label, lost, duplicates)
    latency_rows = []
    wake_ups = [(f"polling every {POLL_SECONDS:g} s", False)] + ([("LISTEN/NOTIFY", True)] if postgres else [])
    for label, notify in wake_ups:
        waits, lost, duplicates = latency(args.samples, notify)
        latency_rows.append(Row("enqueue-to-start, median", label, statistics.median(waits), "ms",
                                f"p95 {p95(waits):.1f} ms, lost {lost}, duplicates {duplicates}"))
        problems += exactly_once(label, lost, duplicates)
    print(f"\n{database_description()}; {args.jobs:,} jobs for throughput, {args.samples} latency samples.\n")
    print(table(rows, higher_is_better=True))
    print()
    print(table(latency_rows, higher_is_better=False))
    if postgres and len(latency_rows) > 1 and latency_rows[1].value >= LATENCY_LIMIT_MS:
        problem = f"median NOTIFY latency {latency_rows[1].value:.1f} ms, not under {LATENCY_LIMIT_MS:g} ms"
        if args.tiny:
            print(f"note (not judged at --tiny): {problem}")
        else:
            problems.append(problem)
    for problem in problems:
        print(f"FAIL: {problem}")
    if not problems:
        print("\nOK: every job ran exactly once.")
    return 1 if problems else 0


def table(rows: list[Row], *, higher_is_better: bool) -> str:
    baseline = rows[0].value
    lines = ["| Measurement | Setting | Result | × baseline | Runs |", "|---|---|---:|---:|---|"]
    for n, row in enumerate(rows):
        ratio = row.value / baseline if baseline else float("nan")
        lines.append(f"| {row.measurement} | {row.setting}{' (baseline)' * (n == 0)} | "
                     f"{row.value:,.1f} {row.unit} | {ratio:.2f} | {row.detail} |")
    return "\n".join(lines)


def main() -> int:
    helpers = queue_benchmark()
    args = parse_args(helpers.DEFAULT_URL.replace("clinicflow_bench", "clinicflow_jobs_bench"))
    if args.worker:
        return worker_process(args.worker)
    url = helpers.benchmark_database_url(args.database_url)
    helpers.recreate_database(url)
    data_dir = tempfile.mkdtemp(prefix="clinicflow-jobs-bench-")
    try:
        helpers.start_django(url, data_dir)
        register_handler()
        return run(args)
    finally:
        if not args.keep:
            helpers.drop_database(url)
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
