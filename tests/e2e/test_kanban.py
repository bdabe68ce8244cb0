from playwright.sync_api import expect

from clinicflow.funnel.models import Case, Stage


def test_the_board_explains_a_refused_move_and_leaves_the_case_where_it_was(rita_page, send_web_inquiry,
                                                                             screenshot):
    page = rita_page
    sent = send_web_inquiry(name="Sergey Lebedev", phone="+7 926 555-04-04")
    case = Case.objects.get(inquiries=sent["id"])
    page.get_by_role("link", name="Cases").click()
    expect(page.get_by_role("heading", name="Patient funnel")).to_be_visible()
    card = page.locator(f'.cf-case[data-case="{case.pk}"]')
    column = page.locator(".cf-column")
    expect(column.filter(has=card)).to_have_attribute("data-stage", "new")

    card.get_by_label("Move to").select_option(label="Lost")
    card.get_by_role("button", name="→").click()
    expect(page.locator("#move-error")).to_have_text("Say why the case is lost.")
    screenshot(page, "kanban-lost-needs-a-reason")

    card.drag_to(page.locator('.cf-column[data-stage="reminder"]'))
    expect(page.locator("#move-error")).to_have_text(
        "A case cannot go from New inquiry to Reminder. Possible next stages: Qualification, Booking, Lost, Closed.")
    expect(column.filter(has=card)).to_have_attribute("data-stage", "new")
    case.refresh_from_db()
    assert case.stage == Stage.NEW
    assert case.transitions.count() == 1
    screenshot(page, "kanban-refused-drag")

    card.drag_to(page.locator('.cf-column[data-stage="qualification"]'))
    expect(column.filter(has=card)).to_have_attribute("data-stage", "qualification")
    expect(page.locator("#move-error")).to_have_count(0)
    case.refresh_from_db()
    assert case.stage == Stage.QUALIFICATION
