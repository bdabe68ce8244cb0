"""Process-local copies of the reference data every new inquiry reads: the clinic settings (with the default
branch) and each branch's calendar (working hours and closed days).

An accelerator only (each process keeps its own, nothing depends on it): a copy lives at most
CLINICFLOW_CLINIC_CACHE_SECONDS (0: no copies) and is dropped at once in the process that saves or deletes one
of these rows. Another process may go on using the old one until it expires: an inquiry arriving in those
seconds may get the previous default branch or response deadline. Bulk updates (`QuerySet.update`,
`bulk_create`) send no signal and wait for the expiry. The copies are shared: callers must not change them.
"""

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings

from .calendar import BranchCalendar
from .models import Branch, ClinicSettings

_copies: dict[tuple, tuple[float, Any]] = {}
_lock = threading.Lock()


def process_cached(key: tuple, load: Callable[[], Any]) -> Any:
    """`load()`, kept in this process for CLINICFLOW_CLINIC_CACHE_SECONDS under `key` (see the module's notes)."""
    seconds = settings.CLINICFLOW_CLINIC_CACHE_SECONDS
    if seconds <= 0:
        return load()
    now = time.monotonic()
    found = _copies.get(key)
    if found and found[0] > now:
        return found[1]
    value = load()
    with _lock:
        if len(_copies) > 1000:  # a day's key per branch: old days are never asked again
            _copies.clear()
        _copies[key] = (now + seconds, value)
    return value


def clinic_cache_clear(**_signal) -> None:
    """Forget every copy (a clinic row changed in this process; and between tests)."""
    with _lock:
        _copies.clear()


def clinic_settings_cached() -> ClinicSettings:
    """The clinic settings with their default branch, read once per process for a short time. Without a row
    yet: the defaults, unsaved (reading never creates the row)."""
    return process_cached(("settings",), lambda: ClinicSettings.objects.select_related("default_branch")
                          .filter(pk=1).first() or ClinicSettings(pk=1))


def branch_calendar_cached(branch: Branch, closed_from: date) -> BranchCalendar:
    """`branch.calendar(closed_from)`, read once per process for a short time."""
    return process_cached(("calendar", branch.pk, closed_from), lambda: branch.calendar(closed_from=closed_from))
