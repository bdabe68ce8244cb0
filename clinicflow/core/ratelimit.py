import ipaddress
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import RateLimitWindow


def rate_limit_allows(*, scope: str, client: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit for `client`; False once it has made more than `limit` hits in the current window."""
    now = timezone.now()
    start = now - timedelta(seconds=now.timestamp() % window_seconds)
    key = f"{scope}:{client}:{int(start.timestamp())}"
    if not RateLimitWindow.objects.filter(key=key).update(hits=F("hits") + 1):
        try:
            with transaction.atomic():
                RateLimitWindow.objects.create(key=key, window_start=start, hits=1)
            RateLimitWindow.objects.filter(window_start__lt=now - timedelta(days=1)).delete()
        except IntegrityError:
            RateLimitWindow.objects.filter(key=key).update(hits=F("hits") + 1)
    return RateLimitWindow.objects.get(key=key).hits <= limit


def client_ip(request) -> str:
    from django.conf import settings

    header = settings.CLINICFLOW_CLIENT_IP_HEADER
    if header:
        # The last entry is the one our own proxy added; earlier ones are whatever the client claimed.
        forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "").split(",")[-1].strip()
        # A header that is not an address ("unknown", garbage) is ignored: it would break the inet column.
        if _is_ip_address(forwarded):
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
