"""A per-client request limit kept in the database, and the client's address behind trusted proxies.

The counter lives in the database so that every web process (and every machine) agrees. Counting costs
one SQL statement per request: an upsert that returns the new count. Old windows are not swept on the
request path; the worker purges them (`rate_limit_purge`, once an hour).
"""

import ipaddress
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import RateLimitWindow

# How long a finished window is kept before the purge may delete it.
KEEP_WINDOWS = timedelta(days=1)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def rate_limit_allows(*, scope: str, client: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit for `client`; False once it has made more than `limit` hits in the current window."""
    now = timezone.now()
    start = now - timedelta(seconds=now.timestamp() % window_seconds)
    key = f"{scope}:{client}:{int(start.timestamp())}"
    return _count_hit(key=key, window_start=start) <= limit


def _count_hit(*, key: str, window_start: datetime) -> int:
    # One statement, atomic on both databases: two requests racing on a new window cannot both insert
    # (the unique key turns the second into the UPDATE). SQLite runs upserts with RETURNING since 3.35.
    meta = RateLimitWindow._meta
    table, quote = meta.db_table, connection.ops.quote_name
    start = meta.get_field("window_start").get_db_prep_value(window_start, connection)
    sql = (f"INSERT INTO {quote(table)} ({quote('key')}, {quote('window_start')}, {quote('hits')}) "
           f"VALUES (%s, %s, 1) ON CONFLICT ({quote('key')}) "
           # Qualified: PostgreSQL finds a bare "hits" ambiguous between the row and EXCLUDED.
           f"DO UPDATE SET {quote('hits')} = {quote(table)}.{quote('hits')} + 1 RETURNING {quote('hits')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, start])
        return cursor.fetchone()[0]


def rate_limit_purge(*, now: datetime | None = None) -> int:
    """Delete the windows that ended more than a day ago. Returns how many went."""
    cutoff = (now or timezone.now()) - KEEP_WINDOWS
    deleted, _by_model = RateLimitWindow.objects.filter(window_start__lt=cutoff).delete()
    return deleted


def client_ip(request) -> str:
    """The address of the client, as the socket saw it or as our own trusted proxies report it.

    The forwarding header is read only when the request comes from a trusted proxy; otherwise anybody
    could name any address. Each proxy appends the address it saw, so the header is read from the right,
    skipping our own proxies; the first entry that is not one of them is the client. Entries left of it
    were written by the client and are ignored.
    """
    address = request.META.get("REMOTE_ADDR", "")
    header = settings.CLINICFLOW_CLIENT_IP_HEADER
    proxies = trusted_networks(tuple(settings.CLINICFLOW_TRUSTED_PROXIES))
    if not header or not proxies:
        return address
    forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    while hops and _is_in(address, proxies):
        hop = hops.pop()
        # A hop that is not an address ("unknown", garbage) ends the walk: the proxy that passed it on is
        # the last address we can vouch for (and garbage would break the consent's inet column).
        if not _is_ip_address(hop):
            break
        address = hop
    return address


@lru_cache(maxsize=8)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Parse CLINICFLOW_TRUSTED_PROXIES ("10.0.0.2, 10.1.0.0/16") once per distinct value."""
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_in(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
