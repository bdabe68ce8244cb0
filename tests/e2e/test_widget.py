"""The website widget embedded in a page of another site (another origin) leaves an inquiry that reaches
the live queue with its campaign tags."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from clinicflow.clinic.models import ClinicSettings
from clinicflow.inbox.models import Inquiry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clinic_site(live_server, moscow):
    """The clinic's own website: a static page on another port (another origin) embedding the widget."""
    html = (f"<!doctype html><html lang='en'><head><title>Clinic</title>"
            f"<style>form, input, label {{ all: unset; color: red; font-size: 40px; }}</style></head>"
            f"<body><h1>Our clinic</h1><script src='{live_server.url}/widget.js' data-branch='{moscow.pk}' "
            f"data-lang='en' async></script></body></html>").encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
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
