"""Log-in lockout: five wrong passwords for one user name from one address lock that pair for a while."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

pytestmark = pytest.mark.django_db


def log_in(client, username: str, password: str, address: str = "203.0.113.7", url: str = "/login/"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_after_100_wrong_passwords_the_right_one_is_refused(client, receptionist):
    for _ in range(100):
        log_in(client, "rita", "guess")
    response = log_in(client, "rita", "pass-rita")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Log-in is locked for 15 minutes" in response.content.decode()


def test_the_fifth_failure_locks_and_the_page_says_so(client, receptionist):
    for attempt in range(4):
        response = log_in(client, "rita", "guess")
        assert response.status_code == 200, attempt
        assert "Wrong user name or password." in response.content.decode()
    response = log_in(client, "rita", "guess")
    assert response.status_code == 429
    assert 'id="login-locked"' in response.content.decode()
    assert 'value="rita"' in response.content.decode()  # the form is still there, ready for later


def test_another_user_from_the_same_address_still_logs_in(client, receptionist, manager):
    for _ in range(6):
        log_in(client, "rita", "guess")
    response = log_in(client, "maria", "pass-maria")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(manager.pk)


def test_the_same_user_from_another_address_still_logs_in(client, receptionist):
    for _ in range(6):
        log_in(client, "rita", "guess", address="203.0.113.7")
    assert log_in(client, "rita", "pass-rita", address="198.51.100.20").status_code == 302


def test_once_the_cool_off_has_passed_the_right_password_works(client, receptionist):
    for _ in range(5):
        log_in(client, "rita", "guess")
    assert log_in(client, "rita", "pass-rita").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert log_in(client, "rita", "pass-rita").status_code == 302


def test_tries_during_the_lock_do_not_extend_it(client, receptionist):
    for _ in range(5):
        log_in(client, "rita", "guess")
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        log_in(client, "rita", "guess")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert log_in(client, "rita", "pass-rita").status_code == 302


def test_a_successful_log_in_clears_earlier_failures(client, receptionist):
    for _ in range(4):
        log_in(client, "rita", "guess")
    assert log_in(client, "rita", "pass-rita").status_code == 302
    client.logout()
    for _ in range(4):
        log_in(client, "rita", "guess")
    assert log_in(client, "rita", "pass-rita").status_code == 302


def test_the_limit_and_cool_off_come_from_settings(client, receptionist, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.CLINICFLOW_LOGIN_COOLOFF_MINUTES = 1
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    log_in(client, "rita", "guess")
    response = log_in(client, "rita", "guess")
    assert response.status_code == 429
    assert "Log-in is locked for 1 minute;" in response.content.decode()


def test_the_admin_log_in_is_locked_out_too(client):
    User.objects.create_superuser("root", password="root-password")
    for _ in range(5):
        log_in(client, "root", "guess", url="/admin/login/")
    response = log_in(client, "root", "root-password", url="/admin/login/")
    assert response.status_code == 429
    assert "Log-in is locked" in response.content.decode()
    assert "_auth_user_id" not in client.session

