"""Two-factor log-in through the real pages: set up an authenticator app, then log in with its code."""

import re
import time
from base64 import b32decode

from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from .conftest import log_in

PHONE = {"width": 390, "height": 844}


def app_code(secret: str, at: float) -> str:
    """What an authenticator app that was given this key shows at that moment."""
    totp = TOTP(b32decode(secret.replace(" ", "")), step=30, t0=0, digits=6)
    totp.time = at
    return f"{totp.token():06d}"


def wrong_code(secret: str) -> str:
    now = time.time()
    accepted = {app_code(secret, now + shift) for shift in (-30, 0, 30, 60)}
    return next(code for code in ("000000", "111111", "222222") if code not in accepted)


def assert_card_fits(page: Page, width: int) -> None:
    box = page.locator("main .card").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box


def test_a_receptionist_sets_up_an_authenticator_app_and_logs_in_with_its_code(rita_page, screenshot):
    page = rita_page
    page.get_by_role("link", name="Rita · Receptionist").click()
    expect(page.get_by_role("heading", name="Two-factor log-in")).to_be_visible()
    expect(page.locator("main svg")).to_be_visible()
    secret = page.locator("#two-factor-key").inner_text()
    screenshot(page, "two-factor-setup")
    page.set_viewport_size(PHONE)
    assert_card_fits(page, PHONE["width"])
    screenshot(page, "two-factor-setup-phone", full_page=True)

    page.get_by_label("Code from your authenticator app").fill(app_code(secret, time.time()))
    page.get_by_role("button", name="Turn on two-factor log-in").click()
    expect(page.get_by_role("status")).to_contain_text("Two-factor log-in is on")
    page.get_by_role("button", name="Menu").click()  # at phone width the menu, with "Log out", is folded
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url("/login/")

    log_in(page, "rita", "pass-rita")
    expect(page).to_have_url(re.compile(r"/account/two-factor/verify/\?next=%2F$"))
    assert_card_fits(page, PHONE["width"])
    page.get_by_label("Code from your authenticator app").fill(wrong_code(secret))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    screenshot(page, "two-factor-wrong-code-phone")

    page.wait_for_timeout(1_100)  # django-otp makes the next try wait a second after a wrong code
    # The next time step's code: the one used to turn it on cannot be used again (the app's tolerance allows it).
    page.get_by_label("Code from your authenticator app").fill(app_code(secret, time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url("/queue/")
    expect(page.get_by_role("heading", name="Live queue")).to_be_visible()
