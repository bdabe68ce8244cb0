"""rate_limit_allows and client_ip: the per-address limit of the public endpoints."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import RequestFactory

from clinicflow.core.models import RateLimitWindow
from clinicflow.core.ratelimit import client_ip, rate_limit_allows, rate_limit_purge

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


def test_a_hit_costs_one_sql_statement(db, django_assert_num_queries):
    hits(1)  # the window exists already: the upsert updates it
    with django_assert_num_queries(1):
        hits(1)
    with django_assert_num_queries(1):
        hits(1, client="198.51.100.1")  # a new window: the same upsert inserts it


def test_counting_never_sweeps_old_windows(db, time_machine):
    hits(1)
    time_machine.move_to(START + timedelta(days=2), tick=False)
    hits(1)
    assert RateLimitWindow.objects.count() == 2


def test_the_purge_forgets_windows_older_than_a_day(db, time_machine):
    hits(1)
    time_machine.move_to(START + timedelta(hours=23), tick=False)
    hits(1, client="198.51.100.1")
    assert rate_limit_purge(now=START + timedelta(days=1, minutes=1)) == 1
    assert [w.key.split(":")[1] for w in RateLimitWindow.objects.all()] == ["198.51.100.1"]


PROXY = "10.0.0.2"


def request_from(remote_addr: str, **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


class TestClientIp:
    @pytest.fixture(autouse=True)
    def behind_a_proxy(self, settings):
        settings.CLINICFLOW_TRUSTED_PROXIES = [PROXY]
        settings.CLINICFLOW_CLIENT_IP_HEADER = "X-Forwarded-For"

    def test_without_trusted_proxies_it_uses_the_socket_address(self, settings):
        settings.CLINICFLOW_TRUSTED_PROXIES = []
        request = request_from(PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
        assert client_ip(request) == PROXY

    def test_it_takes_the_address_a_trusted_proxy_reports(self):
        assert client_ip(request_from(PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")) == "198.51.100.1"

    def test_a_client_that_sends_the_header_directly_gets_its_own_address(self):
        assert client_ip(request_from("203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")) == "203.0.113.7"

    def test_it_takes_the_address_our_proxy_added_not_one_the_client_claimed(self):
        # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the address it really saw.
        request = request_from(PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1")
        assert client_ip(request) == "198.51.100.1"

    def test_a_client_cannot_pass_for_one_of_our_proxies(self):
        request = request_from(PROXY, HTTP_X_FORWARDED_FOR="198.51.100.9, 10.0.0.2, 198.51.100.1")
        assert client_ip(request) == "198.51.100.1"

    def test_it_skips_every_trusted_proxy_of_a_chain_given_as_a_network(self, settings):
        settings.CLINICFLOW_TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8:ff::/48"]
        request = request_from("10.0.0.3", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1, 2001:db8:ff::5, 10.0.0.9")
        assert client_ip(request) == "198.51.100.1"

    def test_when_every_hop_is_a_proxy_it_takes_the_farthest(self):
        assert client_ip(request_from(PROXY, HTTP_X_FORWARDED_FOR="10.0.0.2")) == PROXY

    def test_it_reads_the_configured_header_and_ipv6(self, settings):
        settings.CLINICFLOW_CLIENT_IP_HEADER = "X-Real-IP"
        request = request_from(PROXY, HTTP_X_REAL_IP="2001:db8::1", HTTP_X_FORWARDED_FOR="198.51.100.1")
        assert client_ip(request) == "2001:db8::1"

    def test_an_empty_header_setting_turns_forwarding_off(self, settings):
        settings.CLINICFLOW_CLIENT_IP_HEADER = ""
        assert client_ip(request_from(PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")) == PROXY

    @pytest.mark.parametrize("header", ["", "unknown", "<script>", "999.1.1.1", " , "])
    def test_it_falls_back_to_the_proxy_address_when_the_header_is_no_address(self, header):
        assert client_ip(request_from(PROXY, HTTP_X_FORWARDED_FOR=header)) == PROXY

    def test_garbage_behind_a_valid_hop_stops_at_the_last_trusted_one(self, settings):
        settings.CLINICFLOW_TRUSTED_PROXIES = ["10.0.0.0/24"]
        request = request_from(PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1, unknown, 10.0.0.7")
        assert client_ip(request) == "10.0.0.7"
