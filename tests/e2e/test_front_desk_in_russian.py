"""The front desk's day one in Russian at 1366x768: acting from the card, search as you type, a 160-letter
name, and Lost with a reason from the board.

A receptionist who chose Russian must not meet English: each test gathers the interface strings still in
English on every screen it passes (see `english_strings`) and names them all at the end, after the
behaviour itself has been checked.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from clinicflow.accounts.models import StaffMember
from clinicflow.clinic.models import Branch
from clinicflow.funnel.models import Case, Stage
from clinicflow.patients.models import Patient, PatientNote
from clinicflow.tasks.models import Task
from tests.e2e.conftest import log_in
from tests.e2e.test_long_text_layout import scrolls_sideways
from tests.i18n.test_catalogue import PO, read_po

BRANCH = "Москва, Тверская"  # the clinic's own data in Russian too, so any Latin word left is the interface's
# Latin words a Russian page may show: the brand (clinic·flow), the language switch naming itself, keys, and
# this test's own data: Rita's first name and the consent's stored source code ("web", shown as it is stored).
NOT_ENGLISH = {"clinicflow", "clinic", "flow", "English", "Alt", "Enter", "Rita", "web"}

# Every text node, placeholder, label and tooltip the person can meet on the page, trimmed.
PAGE_STRINGS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || ["SCRIPT", "STYLE", "TEMPLATE"].includes(parent.tagName)) continue;
    if (!parent.checkVisibility() && !parent.closest("details, .collapse, [role=listbox]")) continue;
    out.push(node.textContent);
  }
  for (const name of ["placeholder", "aria-label", "title"]) {
    for (const el of document.body.querySelectorAll(`[${name}]`)) out.push(el.getAttribute(name));
  }
  out.push(document.title);
  return out.map(s => s.replace(/\\s+/g, " ").trim()).filter(Boolean);
}"""


def latin_words_of_the_russian_catalogue() -> set[str]:
    """Words the Russian catalogue itself keeps in Latin letters (E-mail, SMS, WhatsApp, UTM…)."""
    words = set()
    for entry in read_po(PO).values():
        for text in entry["strs"]:
            # Placeholders, tags, addresses and key=value examples are not words the page shows as such.
            text = re.sub(r"%\(\w+\)\w|\{\w*\}|<[^>]*>|\S*[/=?:]\w\S*", " ", text)
            words.update(re.findall(r"[A-Za-z]{3,}", text))
    return words


ALLOWED_LATIN = latin_words_of_the_russian_catalogue() | NOT_ENGLISH


def english_strings(page: Page) -> list[str]:
    """The strings on the page with an English word in them, each whole, so one can see which string it is."""
    return [text for text in page.evaluate(PAGE_STRINGS)
            if any(word not in ALLOWED_LATIN for word in re.findall(r"[A-Za-z]{3,}", text))]


class EnglishLeftError(AssertionError):
    """Raised by the language check: names every interface string still in English, by screen."""


class EnglishLeft:
    """Interface strings seen in English, by screen, reported together at the end of a test."""

    def __init__(self):
        self.found: dict[str, list[str]] = {}

    def look(self, page: Page, screen: str) -> None:
        for text in english_strings(page):
            seen = self.found.setdefault(text, [])
            if screen not in seen:
                seen.append(screen)

    def assert_none(self) -> None:
        report = "\n".join(f"  {text!r}  (on: {', '.join(screens)})" for text, screens in sorted(self.found.items()))
        if self.found:
            raise EnglishLeftError(f"{len(self.found)} interface strings are still in English:\n{report}")


@pytest.fixture
def russian_desk(page, receptionist, moscow, send_web_inquiry) -> Page:
    """Rita, a receptionist who chose Russian, at a branch named in Russian, with two people waiting."""
    StaffMember.objects.filter(user=receptionist).update(language="ru")
    Branch.objects.filter(pk=moscow.pk).update(name=BRANCH)
    send_web_inquiry(name="Ольга Соколова", phone="+7 916 555-01-01")
    send_web_inquiry(name="Павел Морозов", phone="+7 925 555-02-02")
    log_in(page, "rita", "pass-rita")  # the browser asks for English: the log-in page speaks it
    page.wait_for_url("**/queue/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    return page


def test_a_receptionist_edits_contacts_adds_a_note_and_a_callback_from_the_card_in_russian(russian_desk, screenshot):
    page, english = russian_desk, EnglishLeft()
    english.look(page, "queue")
    olga = Patient.objects.get(full_name="Ольга Соколова")
    page.goto(f"/patients/{olga.pk}/")
    expect(page.get_by_role("heading", name="Ольга Соколова")).to_be_visible()
    page.locator("#contacts-edit summary").click()
    english.look(page, "card")

    # Contacts: a second phone, in the spelling people dictate it, is saved as one E.164 number.
    page.locator('#card-contacts input[name="phones"]').nth(1).fill("8 903 555-07-07")
    page.locator("#contacts-save").click()
    expect(page.locator("#card-contacts .alert-success")).to_be_visible()
    expect(page.locator("#card-contacts")).to_contain_text("+7 903 555-07-07")
    expect(page.locator("#card-contacts")).to_contain_text("+7 916 555-01-01")
    assert sorted(Patient.objects.get(pk=olga.pk).phones) == ["+79035550707", "+79165550101"]
    english.look(page, "card after saving contacts")

    # A note appears at the top of the notes.
    page.locator("#card-note-body").fill("Просит звонить после 18:00")
    page.locator("#card-note-add").click()
    expect(page.locator("#card-notes li").first).to_contain_text("Просит звонить после 18:00")
    assert PatientNote.objects.filter(patient=olga, body="Просит звонить после 18:00").exists()
    english.look(page, "card after a note")

    # A task «Перезвонить» (the form's own suggestion) at 10:00, Moscow time, for Rita herself.
    expect(page.locator("#card-task-title")).to_have_value("Перезвонить")
    page.locator("#card-task-due").fill("2030-03-01T10:00")
    page.locator("#card-task-add").click()
    task_line = page.locator("#card-tasks [data-task]")
    expect(task_line).to_have_count(1)
    expect(task_line).to_contain_text("Перезвонить")
    expect(task_line).to_contain_text("01 Мар 10:00")
    task = Task.objects.get(patient=olga)
    assert (task.title, task.assignee.username) == ("Перезвонить", "rita")
    english.look(page, "card after a task")

    assert not scrolls_sideways(page)
    screenshot(page, "ru-card-actions")
    english.assert_none()


def test_search_as_you_type_finds_by_part_of_a_surname_opens_with_the_arrows_and_enter(russian_desk):
    page, english = russian_desk, EnglishLeft()
    Patient.objects.create(full_name="Игорь Соколов", branch_id=Patient.objects.first().branch_id)
    box, hits = page.locator("#global-search"), page.locator("#global-search-hits")
    patients = hits.locator("a.cf-hit:has(.fw-semibold)")  # under them, the same people's inquiries and cases

    box.fill("соколо")  # lower case, part of the surname: both Sokolovs
    expect(hits).to_be_visible()
    expect(patients.filter(has_text="Ольга Соколова")).to_have_count(1)
    expect(patients.filter(has_text="Игорь Соколов")).to_have_count(1)
    expect(patients).to_have_count(2)
    expect(hits).not_to_contain_text("Павел Морозов")
    english.look(page, "search hits")

    first = patients.first
    href, name = first.get_attribute("href"), first.locator(".fw-semibold").inner_text()
    box.press("ArrowDown")
    expect(first).to_have_class(re.compile(r"\bactive\b"))
    box.press("Enter")
    page.wait_for_url(f"**{href}")
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    english.assert_none()


@pytest.mark.parametrize("typed", ["Соколова Ольга", "ольга соколова"])
def test_search_as_you_type_finds_surname_and_name_in_either_order(russian_desk, typed):
    page = russian_desk
    olga = Patient.objects.get(full_name="Ольга Соколова")
    page.locator("#global-search").fill(typed)
    patients = page.locator("#global-search-hits a.cf-hit:has(.fw-semibold)")
    expect(patients).to_have_count(1)
    expect(patients).to_contain_text("Ольга Соколова")
    expect(page.locator("#global-search-hits a.cf-hit", has_text="Павел Морозов")).to_have_count(0)
    page.locator("#global-search").press("Enter")  # one person found: Enter opens the card
    page.wait_for_url(f"**/patients/{olga.pk}/")


def test_search_that_finds_nobody_offers_to_create_the_patient(russian_desk):
    page, english = russian_desk, EnglishLeft()
    page.locator("#global-search").fill("Зайцева")
    hits = page.locator("#global-search-hits")
    expect(hits).to_contain_text("Пациент не найден.")
    english.look(page, "search without hits")
    page.locator("#search-create").click()
    page.wait_for_url("**/patients/new/**")
    expect(page.locator('input[name="full_name"]')).to_have_value("Зайцева")
    english.look(page, "new patient form")
    english.assert_none()


LONG_NAME = ("Константинопольская" * 9)[:160]  # 160 Cyrillic letters, no space to break at


def test_a_160_letter_russian_name_from_the_public_form_wraps_in_the_queue_and_on_the_card(russian_desk,
                                                                                          send_web_inquiry):
    """The layout checks of test_long_text_layout.py, with Cyrillic (wider letters) and a Russian interface."""
    page = russian_desk
    assert len(LONG_NAME) == 160
    send_web_inquiry(name=LONG_NAME, phone="+7 916 123-45-67")
    patient = Patient.objects.get(full_name=LONG_NAME)
    for path in ("/queue/", f"/patients/{patient.pk}/"):
        page.goto(path)
        name = page.get_by_text(LONG_NAME[:40], exact=False).first
        expect(name).to_be_visible()
        assert not scrolls_sideways(page), f"{path} scrolls sideways"
        box = name.bounding_box()
        assert box["x"] + box["width"] <= 1366 + 1, f"the name runs off {path}"
        assert box["height"] > 30, f"the name does not wrap on {path}"


def test_moving_a_case_to_lost_on_the_board_takes_a_reason_from_the_list(russian_desk):
    """Without a reason the board refuses, says why at the card, and leaves the case; with «Дорого» from the
    clinic's list and a note it moves, and the collapsed Lost column counts it."""
    page = russian_desk
    case = Case.objects.get(patient__full_name="Ольга Соколова")
    page.get_by_role("link", name="Сделки").click()
    expect(page.get_by_role("heading", name=re.compile("Воронка пациентов"))).to_be_visible()
    lost = page.locator('.cf-column[data-stage="lost"]')
    card = page.locator(f'.cf-case[data-case="{case.pk}"]')

    card.drag_to(lost)
    expect(card.locator("#move-error")).to_have_text("Укажите, почему сделка потеряна.")
    case.refresh_from_db()
    assert (case.stage, case.lost_reason) == (Stage.NEW, "")

    card.get_by_label("Почему сделка потеряна?").select_option(label="Дорого")
    card.get_by_label("Подробности").fill("нашла дешевле")
    card.get_by_role("button", name="Перевести в «Потерян»").click()
    expect(lost.locator("[data-count]")).to_have_text("1")
    case.refresh_from_db()
    assert case.stage == Stage.LOST and case.listed_lost_reason.name == "Too expensive"
