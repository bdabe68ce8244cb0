"""The engine's own chores, as periodic jobs: whichever worker is free runs each once per slot."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from clinicflow.core.ratelimit import rate_limit_purge

from .registry import job_handler, periodic_job
from .services import job_purge

PURGE_JOBS = "automation.purge_jobs"
PURGE_RATE_LIMITS = "automation.purge_rate_limits"


@job_handler(PURGE_JOBS, label=_("Delete finished jobs past their retention"), lease_seconds=1800)
def purge_jobs(job) -> str:
    return f"deleted {job_purge()} job(s)"


@job_handler(PURGE_RATE_LIMITS, label=_("Forget old rate-limit windows"))
def purge_rate_limits(job) -> str:
    # No web request should pay for the sweep; windows older than a day are gone by the next hour.
    return f"deleted {rate_limit_purge()} window(s)"


periodic_job(PURGE_JOBS, every=timedelta(days=1))
periodic_job(PURGE_RATE_LIMITS, every=timedelta(hours=1))
