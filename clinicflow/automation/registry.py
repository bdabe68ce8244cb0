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
# Kinds whose label depends on the job ("Visit reminder by WhatsApp"): kind → function(job) → text.
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
    """Register `func(job) -> str`, the label people see for one job of `kind` (else the kind's label)."""

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
