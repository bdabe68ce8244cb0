"""A receptionist who chose Russian works a wholly Russian queue, card and board, with the shortcuts of
a Russian keyboard layout."""

import re

import pytest
from playwright.sync_api import Page, expect

from clinicflow.accounts.models import StaffMember
from tests.e2e.conftest import log_in
from tests.i18n.test_catalogue import PO, read_po

# A keydown as a Russian layout sends it: the character differs, the physical key (code) does not.
RUSSIAN_KEY = """([key, code, alt]) => document.body.dispatchEvent(
    new KeyboardEvent("keydown", {key: key, code: code, altKey: !!alt, bubbles: true, cancelable: true}))"""


def english_words_of_the_catalogue() -> list[str]:
    """The catalogue's English strings that read differently in Russian (names like SMS stay as they are)."""
    return sorted({msgid for (_context, msgid), entry in read_po(PO).items()
                   if entry["strs"][0] != msgid and "%" not in msgid and "<" not in msgid
                   and len(re.findall("[A-Za-z]", msgid)) >= 3})


def english_left(page: Page) -> list[str]:
    text = page.inner_text("body")
    return [msgid for msgid in english_words_of_the_catalogue()
            if re.search(r"(?<![\w-])" + re.escape(msgid) + r"(?![\w-])", text)]


@pytest.fixture
def russian_rita(page, receptionist, send_web_inquiry) -> Page:
    StaffMember.objects.filter(user=receptionist).update(language="ru")
    send_web_inquiry(name="Ольга Соколова", phone="+7 916 555-01-01")
    send_web_inquiry(name="Павел Морозов", phone="+7 925 555-02-02")
    log_in(page, "rita", "pass-rita")  # the browser asks for English: the log-in page speaks it
    page.wait_for_url("**/queue/")
    return page


def test_the_queue_card_and_board_are_wholly_russian(russian_rita, screenshot):
    page = russian_rita
    expect(page.locator("h1")).to_have_text("Живая очередь")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert english_left(page) == []
    screenshot(page, "ru-queue")

    page.get_by_role("link", name="Сделки").click()
    expect(page.locator("h1")).to_contain_text("Воронка пациентов")
    expect(page.locator(".cf-case").first).to_contain_text("на этапе")
    assert english_left(page) == []
    screenshot(page, "ru-board")

    page.locator(".cf-case a").first.click()
    expect(page.get_by_role("heading", name="Согласия").or_(page.get_by_text("Согласия")).first).to_be_visible()
    assert english_left(page) == []
    screenshot(page, "ru-card")


def test_queue_shortcuts_work_on_a_russian_layout(russian_rita):
    page = russian_rita
    rows = page.locator("#queue tr[data-href]")
    expect(rows).to_have_count(2)
    page.evaluate(RUSSIAN_KEY, ["о", "KeyJ"])  # J on a Russian layout types "о"
    expect(rows.nth(0)).to_have_class(re.compile("cf-selected"))
    page.evaluate(RUSSIAN_KEY, ["о", "KeyJ"])
    expect(rows.nth(1)).to_have_class(re.compile("cf-selected"))
    page.evaluate(RUSSIAN_KEY, ["л", "KeyK"])
    expect(rows.nth(0)).to_have_class(re.compile("cf-selected"))
    href = rows.nth(0).get_attribute("data-href")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href}")


def test_slash_and_screen_switches_work_on_a_russian_layout(russian_rita):
    page = russian_rita
    page.evaluate(RUSSIAN_KEY, [".", "Slash"])  # the "/" key types "." on a Russian layout
    expect(page.locator("#global-search")).to_be_focused()
    page.locator("#global-search").blur()
    page.evaluate(RUSSIAN_KEY, ["с", "KeyC", True])  # Alt+C
    page.wait_for_url("**/cases/")
    page.evaluate(RUSSIAN_KEY, ["е", "KeyT", True])  # Alt+T
    page.wait_for_url("**/tasks/")
    page.keyboard.press("Alt+KeyQ")  # the physical key, as Chromium sends it on any layout
    page.wait_for_url("**/queue/")


def test_the_menu_switches_the_interface_to_english_and_back(russian_rita):
    page = russian_rita
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Live queue")
    assert {"Live queue", "Waiting", "Patient"} <= set(english_left(page))  # the check above does see English
    page.get_by_role("button", name="Русский").click()
    expect(page.locator("h1")).to_have_text("Живая очередь")


def test_the_russian_menu_fits_a_phone(russian_rita, screenshot):
    page = russian_rita
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="Меню").click()  # at phone width the menu, with the switch, is folded
    expect(page.get_by_role("button", name="English")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "ru-queue-phone")
