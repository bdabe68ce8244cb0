"""From the patient card at 1366x768: edit a contact, add a note, add a task, without leaving the card."""

from playwright.sync_api import expect

from clinicflow.patients.models import PatientNote
from clinicflow.tasks.models import Task


def test_a_receptionist_edits_contacts_adds_a_note_and_a_task_from_the_card(rita_page, ivan, screenshot):
    page = rita_page
    page.goto(f"/patients/{ivan.pk}/")
    expect(page.get_by_role("heading", name="Ivan Petrov")).to_be_visible()
    expect(page.get_by_role("link", name="Book", exact=True)).to_have_attribute("href", f"/schedule/?patient={ivan.pk}")

    # Contacts: a wrong number is explained in place, then a second phone and an e-mail are saved.
    page.locator("#contacts-edit summary").click()
    page.locator('#card-contacts input[name="phones"]').nth(1).fill("12345")
    page.locator("#contacts-save").click()
    expect(page.locator("#phones-error")).to_contain_text("is not a valid phone number")
    page.locator('#card-contacts input[name="phones"]').nth(1).fill("8 903 555-07-07")
    page.get_by_label("E-mail", exact=True).fill("ivan.petrov@example.org")
    page.locator("#contacts-save").click()
    expect(page.locator("#card-contacts")).to_contain_text("Contacts saved.")
    expect(page.locator("#card-contacts")).to_contain_text("+7 903 555-07-07")
    expect(page.locator("#card-notes")).to_contain_text("Contacts changed: e-mail, phones")
    assert sorted(ivan.phones) == ["+79035550707", "+79161234567"]

    # A note: an empty one is refused, a real one appears at the top of the notes.
    page.locator("#card-note-add").click()
    expect(page.locator("#card-note-error")).to_have_text("Write the note first.")
    page.locator("#card-note-body").fill("Prefers calls after 18:00")
    page.locator("#card-note-add").click()
    expect(page.locator("#card-notes li").first).to_contain_text("Prefers calls after 18:00")
    assert PatientNote.objects.filter(patient=ivan, body="Prefers calls after 18:00").exists()

    # A task: call back tomorrow at 10:00 (Moscow), for me.
    page.locator("#card-task-due").fill("2030-03-01T10:00")
    page.locator("#card-task-add").click()
    expect(page.locator("#card-tasks")).to_contain_text("Call back: Call back · 01 Mar 10:00 · Rita")
    task = Task.objects.get(patient=ivan)
    assert task.assignee.username == "rita"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "card-actions")


def test_the_card_is_usable_390_px_wide(rita_page, ivan):
    page = rita_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/patients/{ivan.pk}/")
    page.locator("#contacts-edit summary").click()
    expect(page.locator("#contacts-save")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_done_can_be_undone_in_place_on_the_tasks_page(rita_page, receptionist, moscow):
    from datetime import timedelta

    from django.utils import timezone

    from clinicflow.tasks.services import task_create

    task = task_create(title="Send directions", branch=moscow, due_at=timezone.now() + timedelta(hours=1),
                       assignee=receptionist)
    page = rita_page
    page.goto("/tasks/")
    row = page.locator(f"#task-{task.pk}")
    row.get_by_role("button", name="Done").click()
    expect(row.get_by_role("button", name="Undo")).to_be_visible()
    row.get_by_role("button", name="Undo").click()
    expect(row.get_by_role("button", name="Done")).to_be_visible()
    task.refresh_from_db()
    assert task.done_at is None
