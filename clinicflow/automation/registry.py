"""Job kinds, their handlers and the periodic ones.

Apps register handlers in their AppConfig.ready() so automation never imports the apps above it.
A handler takes the Job and returns a short result text; it must re-check that its reason still
holds, because the world may have moved on since the job was planned.
"""

from collections.abc import Callable
from datetime import timedelta

handlers: dict[str, Callable] = {}
labels: dict[str, str] = {}
# How long a worker may go silent on a job of this kind before another takes it over; absent: the setting.
leases: dict[str, int] = {}
# Kinds whose label depends on the job ("Visit reminder by WhatsApp"): kind → function(jobs) → {job id: text},
# for a list at once (a patient card lists several jobs: one query per kind, not per job).
describers: dict[str, Callable] = {}
# Kinds that run on their own, every so often: the worker keeps one pending job of each.
periodic: dict[str, timedelta] = {}


def job_handler(kind: str, label: str = "", lease_seconds: int | None = None):
    """Register `func` to run jobs of `kind`; `label` is what people see (e.g. on the patient card).

    `lease_seconds` is how long a worker may go silent on such a job before another worker takes it over
    (the running worker renews it every third of that); default CLINICFLOW_JOB_LEASE_SECONDS.
    """

    def register(func: Callable) -> Callable:
        handlers[kind] = func
        labels[kind] = label or kind
        if lease_seconds is not None:
            leases[kind] = lease_seconds
        else:
            leases.pop(kind, None)
        return func

    return register


def job_describer(kind: str):
    """Register `func(jobs) -> {job id: label}`, the labels people see for jobs of `kind` (else the kind's)."""

    def register(func: Callable) -> Callable:
        describers[kind] = func
        return func

    return register


def periodic_job(kind: str, *, every: timedelta) -> None:
    """Run jobs of `kind` once per `every` (slots aligned on the Unix epoch in UTC), without cron.

    Register the handler with `job_handler` too. Any number of workers plan each slot once.
    """
    if every <= timedelta(0):
        raise ValueError(f"periodic job {kind!r} needs a positive interval, not {every}")
    periodic[kind] = every


def jobs_describe(jobs) -> list:
    """Give each job its label for people (`Job.kind_label`), asking each kind's describer once for all."""
    jobs = list(jobs)
    for kind, describe in describers.items():
        mine = [job for job in jobs if job.kind == kind]
        if mine:
            labels_by_id = describe(mine)
            for job in mine:
                job.described = labels_by_id.get(job.pk, "")
    return jobs
