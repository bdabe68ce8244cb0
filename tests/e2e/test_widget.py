"""The website widget embedded in a page of another site (another origin, with a strict Content-Security-Policy)
leaves an inquiry that reaches the live queue with its campaign tags, and books free times."""

import base64
import hashlib
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import expect

from clinicflow.clinic.models import ClinicSettings
from clinicflow.inbox.models import Inquiry
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.slots import free_slots

from .conftest import is_csp_violation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clinic_site(live_server, moscow):
    """The clinic's own website: a static page on another port (another origin) embedding the widget.

    Its policy allows the CRM's script and requests and its own style sheet, nothing else: no inline style
    or script of the widget's would pass.
    """
    style = "form, input, label, button { all: unset; color: red; font-size: 40px; }"
    html = (f"<!doctype html><html lang='en'><head><title>Clinic</title><style>{style}</style></head>"
            f"<body><h1>Our clinic</h1><script src='{live_server.url}/widget.js' data-branch='{moscow.pk}' "
            f"data-lang='en' async></script></body></html>").encode()
    style_hash = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = (f"default-src 'none'; script-src {live_server.url}; connect-src {live_server.url}; "
              f"style-src 'sha256-{style_hash}'; img-src 'none'")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_port}"
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})
    with override_settings(CLINICFLOW_WIDGET_ORIGINS=[origin]):
        yield origin
    server.shutdown()


def test_an_inquiry_from_the_widget_on_the_clinic_site_reaches_the_queue_with_its_tags(
        browser, clinic_site, rita_page):
    visitor = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    site = visitor.new_page()
    errors = []
    site.on("pageerror", lambda error: errors.append(error))
    site.goto(f"{clinic_site}/cardiology?utm_source=yandex&utm_campaign=spring-checkup")
    site.get_by_label("Your name").fill("Widget Visitor")
    site.get_by_label("Phone").fill("8 916 555-12-34")
    expect(site.get_by_role("button", name="Choose a time")).to_have_count(0)  # the clinic offers no slots
    site.get_by_role("button", name="Send").click()
    expect(site.get_by_text("Please agree to the processing of personal data.")).to_be_visible()
    site.get_by_role("checkbox", name="I agree to the processing").check()
    site.get_by_role("button", name="Send").click()
    expect(site.get_by_text("Thank you! We will call you back soon.")).to_be_visible()
    visitor.close()
    assert not errors

    inquiry = Inquiry.objects.get()
    assert (inquiry.channel, inquiry.utm_source, inquiry.utm_campaign) == ("web", "yandex", "spring-checkup")
    assert inquiry.page_url == f"{clinic_site}/cardiology?utm_source=yandex&utm_campaign=spring-checkup"
    row = rita_page.locator("#queue tr", has_text="Widget Visitor")
    expect(row).to_be_visible(timeout=8_000)
    expect(row).to_contain_text("yandex / spring-checkup")


def visitor_on(browser, site_url: str, errors: list, zone: str):
    visitor = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", timezone_id=zone)
    site = visitor.new_page()
    site.on("pageerror", lambda error: errors.append(error))
    site.on("console", lambda message: errors.append(message.text) if is_csp_violation(message.text) else None)
    site.goto(site_url)
    return site


def choose_a_time(site, name: str, phone: str):
    site.get_by_label("Your name").fill(name)
    site.get_by_label("Phone").fill(phone)
    site.get_by_role("checkbox", name="I agree to the processing").check()
    site.get_by_role("button", name="Choose a time").click()
    site.get_by_label("Service").select_option(label="Cardiologist consultation")


def time_button(site, slot):
    return site.locator(f'.times button[data-doctor="{slot.doctor_id}"]'
                        f'[data-starts-at="{slot.starts_at:%Y-%m-%dT%H:%M:%SZ}"]')


def test_two_visitors_pick_the_same_time_one_books_it_the_other_books_an_alternative(
        browser, clinic_site, rita_page, moscow, doctor, consultation, screenshot):
    ClinicSettings.objects.filter(pk=1).update(widget_offers_slots=True)
    now = timezone.now()
    today = now.astimezone(moscow.zone).date()
    # A slot of a later day: one that starts within minutes could turn into the past during the test.
    wanted = next(s for s in free_slots(branch=moscow, service=consultation, start=now, end=now + timedelta(days=7))
                  if s.starts_at.astimezone(moscow.zone).date() > today)
    wanted_day = wanted.starts_at.astimezone(moscow.zone).date().isoformat()
    errors = []
    # The second visitor is in Novosibirsk: the times are still Moscow's, and the widget says so.
    first, second = (visitor_on(browser, f"{clinic_site}/booking", errors, zone)
                     for zone in ("Europe/Moscow", "Asia/Novosibirsk"))
    for site, name, phone in ((first, "Olga First", "8 916 555-00-01"), (second, "Pavel Second", "8 916 555-00-02")):
        choose_a_time(site, name, phone)
        site.locator(f'.days button[data-day="{wanted_day}"]').click()
        time_button(site, wanted).click()
        expect(site.get_by_text("Chosen:")).to_be_visible()
    screenshot(first, "widget-booking-390", full_page=True)
    expect(first.get_by_text("time zone")).to_be_hidden()
    expect(second.get_by_text("Times are given in the clinic's time zone (Europe/Moscow).")).to_be_visible()

    first.get_by_role("button", name="Book this time").click()
    expect(first.get_by_text("You are booked")).to_be_visible()
    expect(first.get_by_text("Your visit:")).to_contain_text("Dr. Anna Petrova")

    second.get_by_role("button", name="Book this time").click()
    expect(second.get_by_text("This time was just taken.")).to_be_visible()
    alternative = second.locator(".times button").first
    expect(alternative).to_be_focused()
    screenshot(second, "widget-booking-taken-390", full_page=True)
    assert second.evaluate("document.documentElement.scrollWidth") <= 390
    alternative.click()
    second.get_by_role("button", name="Book this time").click()
    expect(second.get_by_text("Your visit:")).to_contain_text("GMT+3")
    screenshot(second, "widget-booked-390", full_page=True)
    assert not errors

    olga, pavel = (Appointment.objects.get(patient__full_name=name) for name in ("Olga First", "Pavel Second"))
    assert olga.starts_at == wanted.starts_at and pavel.starts_at != wanted.starts_at
    assert Inquiry.objects.filter(patient__full_name="Pavel Second").count() == 1
    rita_page.goto(f"/schedule/?date={wanted_day}&view=day")
    expect(rita_page.locator(f'[data-visit="{olga.pk}"]')).to_contain_text("Olga First")


def test_a_wrong_phone_found_when_booking_is_shown_under_the_phone_and_the_time_kept(
        browser, clinic_site, moscow, doctor, consultation):
    ClinicSettings.objects.filter(pk=1).update(widget_offers_slots=True)
    errors = []
    site = visitor_on(browser, f"{clinic_site}/booking", errors, "Europe/Moscow")
    choose_a_time(site, "Olga", "12")
    site.get_by_role("button", name="Book this time").click()
    expect(site.get_by_text("Choose a time first.")).to_be_visible()
    site.locator(".days button[data-day]").nth(1).click()  # not today: its next time may pass during the test
    site.locator(".days button[data-day]").nth(1).click()
    site.locator(".times button").first.click()
    site.get_by_role("button", name="Book this time").click()
    phone = site.get_by_label("Phone")
    expect(phone).to_be_focused()
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(site.locator("#clinicflow-error-phone")).to_contain_text("not a valid phone number")
    phone.fill("8 916 555-00-03")
    site.get_by_role("button", name="Choose a time").click()
    site.locator(".times button").first.click()
    site.get_by_role("button", name="Book this time").click()
    expect(site.get_by_text("Your visit:")).to_be_visible()
    assert not errors
    assert Appointment.objects.count() == 1 and not Inquiry.objects.exclude(patient__full_name="Olga").exists()
