import re

from playwright.sync_api import expect

from clinicflow.funnel.models import Case, Stage


def test_a_receptionist_opens_an_inquiry_from_the_queue_runs_the_intake_script_and_books(
        rita_page, send_web_inquiry, doctor, cardiology, screenshot):
    page = rita_page
    sent = send_web_inquiry(name="Irina Kuznetsova", phone="+7 903 555-03-03",
                            comment="Chest pain when climbing stairs")
    page.reload()

    page.keyboard.press("j")
    expect(page.locator(f'#queue tr[data-id="{sent["id"]}"]')).to_have_class(re.compile(r"\bcf-selected\b"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"/inquiries/{sent['id']}/")
    expect(page.get_by_role("heading", name="Irina Kuznetsova")).to_be_visible()
    panel = page.locator("#case-panel")
    expect(panel.locator("#case-stage")).to_have_text("New inquiry")

    # The script's required questions must be answered before it is saved.
    panel.locator("#intake-save").click()
    expect(panel.locator("#q-specialty + .invalid-feedback")).to_have_text("This question needs an answer.")
    expect(panel.locator("#q-visit_type + .invalid-feedback")).to_have_text("This question needs an answer.")

    form = page.locator("#intake-form")
    form.get_by_label("Which specialty does the patient need?").select_option(label="Cardiology")
    form.get_by_label("Preferred doctor").select_option(label="Dr. Anna Petrova")
    form.get_by_label("Preferred date and time").fill("Tomorrow after 17:00")
    form.get_by_label("New or returning patient?").select_option("New")
    form.locator("#intake-save").click()
    expect(page.locator("#intake-saved")).to_have_text("Answers saved.")
    case = Case.objects.get(inquiries=sent["id"])
    assert case.intake == {"specialty": str(cardiology.pk), "doctor": str(doctor.pk),
                           "time_window": "Tomorrow after 17:00", "visit_type": "New"}

    page.locator("#move-stage").select_option(label="Booking")
    page.locator("#move-submit").click()
    expect(page.locator("#case-stage")).to_have_text("Booking")
    expect(page.locator("#move-error")).to_have_count(0)
    case.refresh_from_db()
    assert case.stage == Stage.BOOKING
    assert case.transitions.last().by.username == "rita"
    screenshot(page, "case-panel-intake-and-booking")
