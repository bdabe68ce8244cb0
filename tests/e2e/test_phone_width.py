"""On a 390x844 phone, in Russian: the queue is a list of cards, the card can be acted on, the menu folds
behind its button, and no screen scrolls sideways."""

import pytest
from playwright.sync_api import Page, expect

from clinicflow.accounts.models import StaffMember
from clinicflow.inbox.models import Inquiry
from clinicflow.patients.models import PatientNote
from tests.e2e.conftest import log_in
from tests.e2e.test_long_text_layout import scrolls_sideways

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(page, receptionist, send_web_inquiry) -> Page:
    """Rita, who chose Russian, on her phone, with two people waiting."""
    StaffMember.objects.filter(user=receptionist).update(language="ru")
    send_web_inquiry(name="Ольга Соколова", phone="+7 916 555-01-01")
    send_web_inquiry(name="Павел Морозов", phone="+7 925 555-02-02")
    page.set_viewport_size(PHONE)
    log_in(page, "rita", "pass-rita")
    page.wait_for_url("**/queue/")
    return page


def fits(page: Page) -> None:
    assert not scrolls_sideways(page), f"{page.url} scrolls sideways at 390 px"


def test_the_queue_is_a_list_of_cards_and_a_tap_on_one_opens_the_inquiry(phone, screenshot):
    page = phone
    rows = page.locator("#queue tr[data-href]")
    expect(rows).to_have_count(2)
    expect(page.locator("#queue thead")).to_be_hidden()  # no table header: each row labels its own facts
    first, second = rows.nth(0).bounding_box(), rows.nth(1).bounding_box()
    assert first["width"] >= PHONE["width"] - 40, "a row is a card as wide as the screen"
    assert second["y"] >= first["y"] + first["height"] - 1, "the cards stand one under the other"
    fits(page)
    screenshot(page, "phone-queue")

    inquiry = Inquiry.objects.get(pk=rows.nth(0).get_attribute("data-id"))
    rows.nth(0).locator("td").last.click()  # anywhere on the card, not only on the name
    page.wait_for_url(f"**/inquiries/{inquiry.pk}/")
    expect(page.get_by_text(inquiry.patient.full_name).first).to_be_visible()
    fits(page)


def test_the_menu_folds_behind_its_button_and_opens_the_board(phone):
    page = phone
    cases = page.locator("nav").get_by_role("link", name="Сделки")
    search = page.locator("#global-search")
    expect(cases).to_be_hidden()
    expect(search).to_be_hidden()
    page.locator(".navbar-toggler").click()
    expect(cases).to_be_visible()
    expect(search).to_be_visible()
    fits(page)
    cases.click()
    page.wait_for_url("**/cases/")
    fits(page)


def test_the_card_can_be_acted_on_at_phone_width(phone, screenshot):
    page = phone
    patient = Inquiry.objects.get(patient__full_name="Ольга Соколова").patient
    page.goto(f"/patients/{patient.pk}/")
    expect(page.get_by_role("heading", name="Ольга Соколова")).to_be_visible()
    fits(page)

    page.locator("#contacts-edit summary").click()
    expect(page.locator("#contacts-save")).to_be_visible()
    page.locator('#card-contacts input[name="phones"]').nth(1).fill("8 903 555-07-07")
    page.locator("#contacts-save").click()
    expect(page.locator("#card-contacts")).to_contain_text("+7 903 555-07-07")
    fits(page)

    page.locator("#card-note-body").fill("Удобно после 18:00")
    page.locator("#card-note-add").click()
    expect(page.locator("#card-notes li").first).to_contain_text("Удобно после 18:00")
    assert PatientNote.objects.filter(patient=patient, body="Удобно после 18:00").exists()

    page.locator("#card-task-due").fill("2030-03-01T10:00")
    page.locator("#card-task-add").click()
    expect(page.locator("#card-tasks [data-task]")).to_contain_text("Перезвонить")
    for control in ("#card-note-add", "#card-task-add", "#card-task-due", "#card-task-owner"):
        box = page.locator(control).bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], f"{control} runs off the screen"
    fits(page)
    screenshot(page, "phone-card")
