"""Long unbroken text wraps where it is shown, and every screen fits 1366 and 390 px without sideways scroll."""

import pytest
from playwright.sync_api import Page, expect

from clinicflow.inbox.models import Inquiry

LONG_NAME = ("Konstantinopolskaya" * 9)[:160]  # 160 letters, no space to break at
LONG_MESSAGE = "https://example.org/" + "x" * 600  # a pasted link: one 620-character word
SIZES = {1366: {"width": 1366, "height": 768}, 390: {"width": 390, "height": 844}}


def scrolls_sideways(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


@pytest.fixture
def long_inquiry(send_web_inquiry, moscow) -> Inquiry:
    assert len(LONG_NAME) == 160
    send_web_inquiry(name=LONG_NAME, phone="+7 916 123-45-67", branch_id=moscow.pk, comment=LONG_MESSAGE)
    return Inquiry.objects.get()


@pytest.mark.parametrize("width", SIZES)
def test_a_160_letter_name_does_not_widen_the_queue_the_inquiry_or_the_card(rita_page, long_inquiry, width,
                                                                           screenshot):
    page = rita_page
    page.set_viewport_size(SIZES[width])
    for path in ("/queue/", f"/inquiries/{long_inquiry.pk}/", f"/patients/{long_inquiry.patient_id}/"):
        page.goto(path)
        expect(page.get_by_text(LONG_NAME[:40], exact=False).first).to_be_visible()
        assert not scrolls_sideways(page), f"{path} scrolls sideways at {width} px"
        name_box = page.get_by_text(LONG_NAME[:40], exact=False).first.bounding_box()
        assert name_box["x"] + name_box["width"] <= width + 1, f"the name runs off {path} at {width} px"
    screenshot(page, f"long-name-card-{width}")


def test_at_390_px_the_menu_folds_behind_a_button(rita_page):
    page = rita_page
    page.set_viewport_size(SIZES[390])
    page.goto("/queue/")
    cases = page.locator("nav").get_by_role("link", name="Cases")
    expect(cases).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(cases).to_be_visible()
    assert not scrolls_sideways(page)
    cases.click()
    page.wait_for_url("**/cases/")


def test_at_1366_px_the_menu_is_open_and_has_no_button(rita_page):
    page = rita_page
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.locator("nav").get_by_role("link", name="Cases")).to_be_visible()
