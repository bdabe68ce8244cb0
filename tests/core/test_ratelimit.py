"""rate_limit_allows and client_ip: the per-address limit of the public endpoints."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import RequestFactory

from clinicflow.core.models import RateLimitWindow
from clinicflow.core.ratelimit import client_ip, rate_limit_allows

START = datetime(2025, 3, 12, 7, 0, 0, tzinfo=UTC)

pytestmark = pytest.mark.time_machine(START, tick=False)


def hits(n: int, client="203.0.113.7", scope="form", limit=3) -> list[bool]:
    return [rate_limit_allows(scope=scope, client=client, limit=limit) for _ in range(n)]


def test_it_allows_up_to_the_limit_in_a_window(db):
    assert hits(4) == [True, True, True, False]


def test_it_counts_each_client_apart(db):
    hits(4)
    assert hits(1, client="198.51.100.1") == [True]


def test_it_counts_each_scope_apart(db):
    hits(4)
    assert hits(1, scope="widget") == [True]


def test_a_new_window_starts_afresh(db, time_machine):
    hits(4)
    time_machine.move_to(START + timedelta(seconds=60), tick=False)
    assert hits(1) == [True]


def test_the_window_is_fixed_not_sliding(db, time_machine):
    time_machine.move_to(START + timedelta(seconds=59), tick=False)
    hits(3)
    time_machine.move_to(START + timedelta(seconds=61), tick=False)
    assert hits(3) == [True, True, True]


def test_it_forgets_windows_older_than_a_day(db, time_machine):
    hits(1)
    time_machine.move_to(START + timedelta(days=2), tick=False)
    hits(1)
    assert RateLimitWindow.objects.count() == 1


class TestClientIp:
    def test_it_uses_the_socket_address_by_default(self, settings):
        settings.CLINICFLOW_CLIENT_IP_HEADER = ""
        request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")
        assert client_ip(request) == "203.0.113.7"

    def test_it_trusts_the_configured_proxy_header(self, settings):
        settings.CLINICFLOW_CLIENT_IP_HEADER = "X-Forwarded-For"
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
        assert client_ip(request) == "198.51.100.1"

    def test_it_takes_the_address_our_proxy_added_not_one_the_client_claimed(self, settings):
        # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the address it really saw.
        settings.CLINICFLOW_CLIENT_IP_HEADER = "X-Forwarded-For"
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1")
        assert client_ip(request) == "198.51.100.1"

    def test_it_reads_an_ipv6_address(self, settings):
        settings.CLINICFLOW_CLIENT_IP_HEADER = "X-Real-IP"
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="2001:db8::1")
        assert client_ip(request) == "2001:db8::1"

    @pytest.mark.parametrize("header", ["", "unknown", "<script>", "999.1.1.1"])
    def test_it_falls_back_to_the_socket_address_when_the_header_is_no_address(self, settings, header):
        settings.CLINICFLOW_CLIENT_IP_HEADER = "X-Forwarded-For"
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=header)
        assert client_ip(request) == "10.0.0.2"
