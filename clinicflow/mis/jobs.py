"""The MIS's job kinds: push one booking, and the periodic reconciliation."""

import logging

from django.utils.translation import gettext_lazy

from clinicflow.automation.registry import job_handler
from clinicflow.funnel.services import mis_is_connected

from .adapters.base import MisError
from .services import (
    PUSH_JOB,
    RECONCILE_JOB,
    mis_appointment_push,
    mis_outage_task_open,
    mis_reconcile,
)

log = logging.getLogger("clinicflow.mis")


@job_handler(PUSH_JOB, label=gettext_lazy("Send the booking to the MIS"))
def push_appointment(job) -> str:
    if not mis_is_connected():
        return "no MIS connected"
    try:
        return mis_appointment_push(appointment_id=job.payload["appointment_id"])
    except MisError:
        # The front desk hears of it at once; the engine retries with backoff, and the reconciliation
        # pushes again whatever ran out of attempts.
        mis_outage_task_open(appointment_id=job.payload["appointment_id"])
        raise


@job_handler(RECONCILE_JOB, label=gettext_lazy("Reconcile with the MIS"))
def reconcile(job) -> str:
    if not mis_is_connected():
        return "no MIS connected"
    try:
        return mis_reconcile()
    except MisError as exc:
        # Not raised: the next round comes anyway (a periodic job), and a retry storm helps no one.
        log.warning("MIS reconciliation failed: %s", exc)
        return f"MIS unavailable: {exc}"[:255]
