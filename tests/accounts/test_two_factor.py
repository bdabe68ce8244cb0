"""Two-factor log-in: an authenticator app's code after the password, optional or required by role.

Personas: Rita (receptionist) with an app, Maria (front-office manager) without one, a superuser.
The clock is frozen at the start of a 30-second time step, so each code below is the one an app shows.
"""

import re
import time
from base64 import b32encode
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import checks
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicflow.accounts.apps import check_two_factor_roles
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.patients.models import Channel

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)  # a step boundary: 09:00:00 UTC
SETUP, VERIFY, REMOVE = "/account/two-factor/", "/account/two-factor/verify/", "/account/two-factor/remove/"
PATIENTS_API = "/api/v1/patients"


def code_for(device: TOTPDevice, at: datetime | None = None) -> str:
    """The code the person's app shows, computed from the device's key as the app does."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = (at or datetime.now(UTC)).timestamp()
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """A six-digit code that the app shows at none of the time steps the device accepts now."""
    now = datetime.now(UTC)
    accepted = {code_for(device, now + timedelta(seconds=30 * shift)) for shift in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ritas_app(receptionist) -> TOTPDevice:
    # RFC 6238's test key, so that with the frozen clock every code in this file is always the same.
    return TOTPDevice.objects.create(user=receptionist, name="authenticator app", confirmed=True,
                                     key="3132333435363738393031323334353637383930")


def log_in(client, username: str):
    response = client.post("/login/", {"username": username, "password": f"pass-{username}"})
    assert response.status_code == 302, "the password was refused"
    return response


def is_verified(client) -> bool:
    return "otp_device_id" in client.session


# --- setting it up ------------------------------------------------------------------------------

def test_the_setup_page_shows_the_key_and_a_qr_code_of_a_new_unconfirmed_device(rita_client, receptionist):
    response = rita_client.get(SETUP)

    device = TOTPDevice.objects.get(user=receptionist)
    assert not device.confirmed
    page = response.content.decode()
    secret = b32encode(device.bin_key).decode()
    assert " ".join(re.findall(".{4}", secret)) in page
    assert "<svg" in page and "QR code for your authenticator app" in page
    assert "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")


def test_reloading_the_setup_page_keeps_the_same_key(rita_client, receptionist):
    rita_client.get(SETUP)
    rita_client.get(SETUP)
    assert TOTPDevice.objects.filter(user=receptionist).count() == 1


def test_a_code_from_the_app_turns_it_on_and_counts_as_this_sessions_second_factor(rita_client, receptionist):
    rita_client.get(SETUP)
    device = TOTPDevice.objects.get(user=receptionist)

    response = rita_client.post(SETUP, {"code": code_for(device)})

    assert response.status_code == 302 and response.url == SETUP
    device.refresh_from_db()
    assert device.confirmed
    assert is_verified(rita_client)
    assert rita_client.get("/queue/").status_code == 200
    assert "Switch off two-factor log-in" in rita_client.get(SETUP).content.decode()


def test_a_wrong_code_leaves_the_device_off(rita_client, receptionist):
    rita_client.get(SETUP)
    device = TOTPDevice.objects.get(user=receptionist)

    response = rita_client.post(SETUP, {"code": wrong_code(device)})

    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef"])
def test_a_code_that_is_not_six_digits_is_refused_without_counting(rita_client, receptionist, code):
    rita_client.get(SETUP)
    response = rita_client.post(SETUP, {"code": code})
    assert response.status_code == 200 and "<svg" in response.content.decode()
    assert TOTPDevice.objects.get(user=receptionist).throttling_failure_count == 0


def test_a_code_with_a_space_in_the_middle_is_accepted(rita_client, receptionist):
    rita_client.get(SETUP)
    device = TOTPDevice.objects.get(user=receptionist)
    code = code_for(device)
    rita_client.post(SETUP, {"code": f"{code[:3]} {code[3:]}"})
    device.refresh_from_db()
    assert device.confirmed


def test_confirming_a_key_removes_the_persons_other_keys(rita_client, receptionist):
    shown = TOTPDevice.objects.create(user=receptionist, name="authenticator app", confirmed=False)
    TOTPDevice.objects.create(user=receptionist, name="authenticator app", confirmed=False)
    rita_client.get(SETUP)
    rita_client.post(SETUP, {"code": code_for(shown)})
    assert list(TOTPDevice.objects.filter(user=receptionist)) == [shown]


def test_the_setup_page_is_for_logged_in_people_only(client):
    response = client.get(SETUP)
    assert response.status_code == 302 and response.url.startswith("/login/")


# --- logging in with a code ------------------------------------------------------------------------

def test_after_the_password_a_person_with_an_app_is_sent_to_the_code_page(client, ritas_app):
    log_in(client, "rita")

    response = client.get("/queue/")

    assert response.status_code == 302 and response.url == f"{VERIFY}?next=%2Fqueue%2F"
    assert client.get(response.url).status_code == 200


@pytest.mark.parametrize("url", ["/queue/", "/cases/", "/tasks/", "/patients/", "/inquiries/new/"])
def test_no_page_opens_before_the_code(client, ritas_app, url):
    log_in(client, "rita")
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(VERIFY)


def test_an_htmx_fragment_makes_the_browser_go_to_the_code_page_instead(client, ritas_app):
    log_in(client, "rita")

    response = client.get("/queue/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/cases/")

    assert response["HX-Redirect"] == f"{VERIFY}?next=%2Fcases%2F"
    assert response.content == b""


def test_the_right_code_opens_the_page_the_person_was_going_to(client, ritas_app):
    log_in(client, "rita")
    session_before = client.session.session_key

    response = client.post(VERIFY, {"code": code_for(ritas_app), "next": "/tasks/"})

    assert response.status_code == 302 and response.url == "/tasks/"
    assert client.get("/tasks/").status_code == 200
    assert client.session.session_key != session_before, "a raised privilege gets a new session key"


def test_the_code_page_does_not_send_anyone_to_another_site(client, ritas_app):
    log_in(client, "rita")
    response = client.post(VERIFY, {"code": code_for(ritas_app), "next": "https://evil.example/"})
    assert response.url == "/"  # home, which sends each role to its own start page


def test_a_wrong_code_is_refused_and_counted(client, ritas_app):
    log_in(client, "rita")

    response = client.post(VERIFY, {"code": wrong_code(ritas_app)})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not is_verified(client)
    ritas_app.refresh_from_db()
    assert ritas_app.throttling_failure_count == 1


def test_after_wrong_codes_even_the_right_one_waits_its_turn(client, ritas_app, clock):
    """django-otp's throttle: after n wrong codes the next is not even checked for 2^(n-1) seconds."""
    log_in(client, "rita")
    client.post(VERIFY, {"code": wrong_code(ritas_app)})
    clock.shift(timedelta(seconds=1.5))
    client.post(VERIFY, {"code": wrong_code(ritas_app)})
    ritas_app.refresh_from_db()
    assert ritas_app.throttling_failure_count == 2

    clock.shift(timedelta(seconds=1))
    response = client.post(VERIFY, {"code": code_for(ritas_app)})
    assert "Too many wrong codes" in response.content.decode()
    assert not is_verified(client)
    ritas_app.refresh_from_db()
    assert ritas_app.throttling_failure_count == 2, "a throttled attempt is not checked, so not counted"

    clock.shift(timedelta(seconds=1))
    assert client.post(VERIFY, {"code": code_for(ritas_app)}).status_code == 302
    ritas_app.refresh_from_db()
    assert ritas_app.throttling_failure_count == 0


def test_a_code_works_only_once(client, ritas_app, clock):
    log_in(client, "rita")
    code = code_for(ritas_app)
    client.post(VERIFY, {"code": code})
    client.post("/logout/")

    log_in(client, "rita")
    response = client.post(VERIFY, {"code": code})

    assert "That code is not right, or it was used already" in response.content.decode()
    assert not is_verified(client)
    clock.shift(timedelta(seconds=31))
    assert client.post(VERIFY, {"code": code_for(ritas_app)}).status_code == 302


def test_logging_out_forgets_the_second_factor(client, ritas_app):
    log_in(client, "rita")
    client.post(VERIFY, {"code": code_for(ritas_app)})
    client.post("/logout/")
    log_in(client, "rita")
    assert client.get("/queue/").url.startswith(VERIFY)


def test_a_person_without_an_app_logs_in_with_the_password_alone(client, receptionist):
    log_in(client, "rita")
    assert client.get("/queue/").status_code == 200


def test_the_code_page_sends_a_person_without_an_app_on(client, receptionist):
    log_in(client, "rita")
    response = client.get(VERIFY + "?next=/tasks/")
    assert response.status_code == 302 and response.url == "/tasks/"


def test_the_code_page_shows_no_count_of_waiting_inquiries(client, ritas_app, moscow):
    inquiry_receive(draft=InquiryDraft(channel=Channel.WEB, phone="+7 916 123-45-67", consent=True,
                                       branch_id=moscow.pk))
    log_in(client, "rita")
    page = client.get(VERIFY).content.decode()
    assert re.search(r'id="nav-unread" hidden', page)


# --- switching it off -------------------------------------------------------------------------------

@pytest.fixture
def rita_verified(client, ritas_app):
    log_in(client, "rita")
    client.post(VERIFY, {"code": code_for(ritas_app)})
    assert is_verified(client)
    return client


def test_switching_it_off_needs_a_current_code(rita_verified, ritas_app, clock):
    clock.shift(timedelta(seconds=30))

    response = rita_verified.post(REMOVE, {"code": wrong_code(ritas_app)})
    assert response.status_code == 200 and TOTPDevice.objects.filter(pk=ritas_app.pk).exists()

    clock.shift(timedelta(seconds=1))  # the throttle's wait after one wrong code
    response = rita_verified.post(REMOVE, {"code": code_for(ritas_app)})
    assert response.status_code == 302 and not TOTPDevice.objects.filter(user=ritas_app.user).exists()
    assert rita_verified.get("/queue/").status_code == 200


def test_a_used_code_does_not_switch_it_off(rita_verified, ritas_app):
    response = rita_verified.post(REMOVE, {"code": code_for(ritas_app)})
    assert "used already" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=ritas_app.pk).exists()


def test_a_session_that_owes_its_code_cannot_switch_it_off(client, ritas_app):
    log_in(client, "rita")
    response = client.post(REMOVE, {"code": code_for(ritas_app)})
    assert response.status_code == 302 and TOTPDevice.objects.filter(pk=ritas_app.pk).exists()
    assert client.get(SETUP).url.startswith(VERIFY)


# --- a clinic that requires it ------------------------------------------------------------------------

@pytest.fixture
def required_for_receptionists(settings):
    settings.CLINICFLOW_TWO_FACTOR_ROLES = ["receptionist"]


def test_a_required_role_without_an_app_can_only_set_one_up(client, receptionist, required_for_receptionists):
    log_in(client, "rita")

    response = client.get("/patients/")

    assert response.status_code == 302 and response.url == f"{SETUP}?next=%2Fpatients%2F"
    assert client.get(VERIFY).url.startswith(SETUP)
    assert client.get(PATIENTS_API).status_code == 401
    page = client.get(SETUP).content.decode()
    assert "Your clinic requires two-factor log-in for your role" in page


def test_setting_it_up_opens_the_page_the_person_was_going_to(client, receptionist, required_for_receptionists):
    log_in(client, "rita")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=receptionist)

    response = client.post(SETUP, {"code": code_for(device), "next": "/patients/"})

    assert response.url == "/patients/"
    assert client.get("/patients/").status_code == 200


def test_a_required_role_can_still_log_out(client, receptionist, required_for_receptionists):
    log_in(client, "rita")
    assert client.post("/logout/").status_code == 302
    assert client.get("/queue/").url.startswith("/login/")


def test_other_roles_are_not_asked(client, manager, required_for_receptionists):
    log_in(client, "maria")
    assert client.get("/queue/").status_code == 200


def test_superusers_are_included_whenever_any_role_is(client, required_for_receptionists):
    User.objects.create_superuser("root", "root@example.com", "pass-root")
    log_in(client, "root")
    assert client.get("/queue/").url.startswith(SETUP)
    assert client.get("/admin/").status_code == 302


def test_superusers_are_not_asked_when_no_role_is(client):
    User.objects.create_superuser("root", "root@example.com", "pass-root")
    log_in(client, "root")
    assert client.get("/admin/").status_code == 200


def test_a_misspelt_role_stops_the_start(settings):
    settings.CLINICFLOW_TWO_FACTOR_ROLES = ["receptionst", "clinic_admin"]
    errors = check_two_factor_roles()
    assert [e.id for e in errors] == ["clinicflow.E001"] and "receptionst" in errors[0].msg
    assert errors[0].level == checks.ERROR


def test_known_roles_pass_the_check(settings):
    settings.CLINICFLOW_TWO_FACTOR_ROLES = ["receptionist", "front_office_manager", "clinic_admin"]
    assert check_two_factor_roles() == []


# --- the API and the admin -----------------------------------------------------------------------------

def test_the_session_api_refuses_a_session_that_owes_its_code(client, ritas_app, ivan):
    log_in(client, "rita")
    assert client.get(PATIENTS_API).status_code == 401
    client.post(VERIFY, {"code": code_for(ritas_app)})
    assert client.get(PATIENTS_API).status_code == 200


def test_bearer_tokens_are_not_asked_for_a_code(client, ritas_app, auth, ivan):
    response = client.get(PATIENTS_API, **auth)
    assert response.status_code == 200 and [p["id"] for p in response.json()] == [ivan.pk]


def test_bearer_tokens_of_a_required_role_work_without_an_app(client, auth, ivan, required_for_receptionists):
    assert client.get(PATIENTS_API, **auth).status_code == 200


@pytest.fixture
def root_with_app(db) -> TOTPDevice:
    root = User.objects.create_superuser("root", "root@example.com", "pass-root")
    return TOTPDevice.objects.create(user=root, name="authenticator app", confirmed=True)


@pytest.mark.parametrize("url", ["/admin/", "/admin/auth/user/", "/admin/otp_totp/totpdevice/"])
def test_the_admin_refuses_a_session_that_owes_its_code(client, root_with_app, url):
    log_in(client, "root")
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_the_admin_log_in_page_sends_such_a_session_to_the_code_page(client, root_with_app):
    log_in(client, "root")
    response = client.get("/admin/login/?next=/admin/auth/user/")
    assert response.status_code == 302 and response.url == f"{VERIFY}?next=%2Fadmin%2Fauth%2Fuser%2F"

    response = client.post(response.url, {"code": code_for(root_with_app)})
    assert response.url == "/admin/auth/user/"
    assert client.get("/admin/auth/user/").status_code == 200


def test_the_admin_log_in_form_alone_does_not_open_the_admin(client, root_with_app):
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": "pass-root"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_an_admin_can_remove_a_lost_phone_without_seeing_its_key(client, ritas_app, root_with_app):
    log_in(client, "root")
    client.post(VERIFY, {"code": code_for(root_with_app)})

    page = client.get(f"/admin/otp_totp/totpdevice/{ritas_app.pk}/change/").content.decode()
    assert ritas_app.key not in page
    client.post(f"/admin/otp_totp/totpdevice/{ritas_app.pk}/delete/", {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=ritas_app.pk).exists()


def test_the_clock_is_frozen_at_a_step_boundary():
    assert time.time() % 30 == 0
