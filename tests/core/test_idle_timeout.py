"""A staff session left idle for CLINICFLOW_IDLE_MINUTES is logged out; the queue's polling is not activity."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

pytestmark = pytest.mark.django_db
POLL = {"HTTP_HX_REQUEST": "true", "HTTP_X_CLINICFLOW_POLL": "1"}


@pytest.fixture
def logged_in(client, receptionist):
    """Rita logs in through the form now; the returned function moves the clock by some minutes."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert client.post("/login/", {"username": "rita", "password": "pass-rita"}).status_code == 302

    def at(minutes: float):
        return time_machine.travel(start + timedelta(minutes=minutes), tick=False)

    return at


def test_a_session_idle_for_31_minutes_is_logged_out_and_sent_to_the_log_in_page(client, logged_in):
    with logged_in(31):
        response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/patients/"
    assert "_auth_user_id" not in client.session
    follow = client.get(response["Location"])
    assert "You were logged out after 30 minutes without activity." in follow.content.decode()


def test_pages_opened_now_and_then_keep_the_session_alive(client, logged_in):
    for minutes in (20, 40, 60, 80):
        with logged_in(minutes):
            assert client.get("/patients/").status_code == 200, minutes


def test_the_queue_polling_every_3_seconds_does_not_keep_an_idle_session_alive(client, logged_in):
    for minutes in (5, 10, 15, 20, 25, 29):
        with logged_in(minutes):
            assert client.get("/queue/", **POLL).status_code == 200
    with logged_in(31):
        response = client.get("/queue/", **POLL, HTTP_HX_CURRENT_URL="http://testserver/queue/")
    # htmx turns this into a whole-tab navigation instead of swapping the log-in form into the queue.
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?next=/queue/"
    assert "_auth_user_id" not in client.session


def test_the_idle_time_comes_from_settings(client, logged_in, settings):
    settings.CLINICFLOW_IDLE_MINUTES = 5
    with logged_in(6):
        assert client.get("/patients/").status_code == 302


def test_zero_minutes_turns_the_idle_log_out_off(client, logged_in, settings):
    settings.CLINICFLOW_IDLE_MINUTES = 0
    with logged_in(600):
        assert client.get("/patients/").status_code == 200


def test_the_queue_page_asks_htmx_to_mark_its_refresh_as_a_poll(rita_client):
    # The same attribute also carries the version the screen shows (the unchanged refresh answers 204).
    expected = """hx-headers='{"X-Clinicflow-Poll": "1", "X-Queue-Version": """
    assert expected in rita_client.get("/queue/").content.decode()
