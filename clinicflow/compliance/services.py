from collections.abc import Iterable
from contextvars import ContextVar

from django.db import transaction
from django.utils import timezone

from clinicflow.accounts.models import user_roles
from clinicflow.core.ratelimit import client_ip
from clinicflow.patients.models import Patient

from .models import AccessLogEntry, AccessLogHead, Consent

Purpose = Consent.Purpose

# --- the consent gate ---------------------------------------------------------------------------


def consent_allows(patient: Patient, purpose: str, channel: str = "") -> bool:
    """May we contact `patient` for `purpose` over `channel`? Every sender asks this, right before sending.

    It takes a confirmed, not withdrawn consent to the processing of personal data and one for the
    purpose; a foreign messenger also needs consent to the transfer abroad.
    """
    needed = {Purpose.PROCESSING, purpose}
    if channel in Consent.CROSS_BORDER_CHANNELS:
        needed.add(Purpose.CROSS_BORDER)
    valid = set(patient.consents.filter(purpose__in=needed, confirmed_at__isnull=False, withdrawn_at__isnull=True)
                .values_list("purpose", flat=True))
    return needed <= valid


def consent_record(*, patient: Patient, purpose: str, source: str, confirmed: bool = True, text_version: str = "",
                   ip_address: str | None = None, page_url: str = "") -> Consent:
    """Record a consent. A still-valid one for the same purpose is kept; a pending one is confirmed by a
    confirmed repeat; an unconfirmed repeat of a pending one changes nothing."""
    now = timezone.now()
    current = patient.consents.filter(purpose=purpose, withdrawn_at__isnull=True)
    valid = current.filter(confirmed_at__isnull=False).first()
    if valid:
        return valid
    pending = current.filter(confirmed_at__isnull=True).first()
    if pending:
        if confirmed:
            consent_confirm(consent=pending, via=source)
        return pending
    return Consent.objects.create(patient=patient, purpose=purpose, source=source, text_version=text_version[:32],
                                  ip_address=ip_address or None, page_url=page_url[:500],
                                  confirmed_at=now if confirmed else None, given_at=now)


def consents_record_new(*, patient: Patient, confirmed_by_purpose: dict[str, bool], source: str,
                        text_version: str = "", ip_address: str | None = None, page_url: str = "") -> list[Consent]:
    """`consent_record` for a patient created in the caller's transaction: none can exist yet, so no lookups,
    one INSERT for every purpose (`confirmed_by_purpose`: purpose → confirmed now, or pending)."""
    now = timezone.now()
    return Consent.objects.bulk_create([
        Consent(patient=patient, purpose=purpose, source=source, text_version=text_version[:32],
                ip_address=ip_address or None, page_url=page_url[:500], confirmed_at=now if confirmed else None,
                given_at=now)
        for purpose, confirmed in confirmed_by_purpose.items()])


def consent_confirm(*, consent: Consent, via: str) -> Consent:
    """The number confirmed a pending consent (a call with the patient, a reply from that number)."""
    if consent.is_pending:
        Consent.objects.filter(pk=consent.pk, confirmed_at__isnull=True).update(confirmed_at=timezone.now())
        consent.refresh_from_db()
    return consent


def consent_withdraw(*, patient: Patient, purpose: str, source: str) -> int:
    """Withdraw a purpose; withdrawing the processing of personal data withdraws every purpose."""
    consents = patient.consents.filter(withdrawn_at__isnull=True)
    if purpose != Purpose.PROCESSING:
        consents = consents.filter(purpose=purpose)
    return consents.update(withdrawn_at=timezone.now(), withdrawal_source=source[:32])


# --- the access log -----------------------------------------------------------------------------

# The request being served, so the log can name the address, browser and API token behind a read
# without every caller passing the request down. Set by AccessLogMiddleware.
current_request: ContextVar = ContextVar("clinicflow_current_request", default=None)


def access_record(*, user, action: str, patient_ids: Iterable[int | None] = (None,), target: str = "") -> None:
    """Append one row per patient to the hash-chained access log, in one short locked transaction."""
    request = current_request.get()
    token = getattr(request, "api_token", None) if request is not None else None
    common = {
        "user_id": getattr(user, "pk", None), "username": getattr(user, "username", "")[:150],
        "roles": ",".join(sorted(user_roles(user)))[:200] if user is not None else "",
        "token_id": getattr(token, "pk", None), "action": action, "target": target[:80],
        "ip_address": client_ip(request)[:45] if request is not None else "",
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else "",
    }
    with transaction.atomic():
        # The lock on the head row makes concurrent appends queue up, so the chain stays one line.
        head = AccessLogHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            AccessLogHead.objects.get_or_create(pk=1)
            head = AccessLogHead.objects.select_for_update().get(pk=1)
        now, rows = timezone.now(), []
        for patient_id in patient_ids:
            entry = AccessLogEntry(seq=head.seq + 1, at=now, patient_id=patient_id, prev_hash=head.hash, **common)
            entry.hash = entry.compute_hash()
            head.seq, head.hash = entry.seq, entry.hash
            rows.append(entry)
        AccessLogEntry.objects.bulk_create(rows)
        head.save(update_fields=["seq", "hash"])


def access_log_verify() -> list[str]:
    """Walk the chain; return what is wrong (an empty list when the log is intact)."""
    problems, expected_prev, expected_seq = [], "0" * 64, 1
    for entry in AccessLogEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            problems.append(f"rows #{expected_seq}–#{entry.seq - 1} are missing (deleted)")
        if entry.prev_hash != expected_prev:
            problems.append(f"row #{entry.seq} does not follow the row before it (a row before it was "
                            f"edited or deleted)")
        if entry.compute_hash() != entry.hash:
            problems.append(f"row #{entry.seq} was edited after it was written")
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    head = AccessLogHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, expected_prev):
        problems.append(f"the log ends at #{expected_seq - 1} but #{head.seq} was written: rows were cut off "
                        f"the end (or the head was edited)")
    return problems
