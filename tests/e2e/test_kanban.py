import re

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
    screenshot(page, "kanban-lost-needs-a-reason", caret="initial")

    card.drag_to(page.locator('.cf-column[data-stage="reminder"]'))
    expect(page.locator("#move-error")).to_have_text(
        "A case cannot go from New inquiry to Reminder. Possible next stages: Qualification, Booking, Lost, Closed.")
    expect(column.filter(has=card)).to_have_attribute("data-stage", "new")
    case.refresh_from_db()
    assert case.stage == Stage.NEW
    assert case.transitions.count() == 1
    screenshot(page, "kanban-refused-drag", caret="initial")

    card.drag_to(page.locator('.cf-column[data-stage="qualification"]'))
    expect(column.filter(has=card)).to_have_attribute("data-stage", "qualification")
    expect(page.locator("#move-error")).to_have_count(0)
    case.refresh_from_db()
    assert case.stage == Stage.QUALIFICATION


# Screenshots keep the caret: hiding it makes Playwright leave style="" on inputs, which htmx then copies
# onto the swapped-in ones, and the page's CSP (rightly) reports an inline style.


def no_horizontal_page_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def test_a_refused_move_is_explained_at_the_card_in_view(rita_page, send_web_inquiry):
    page = rita_page
    sent = send_web_inquiry(name="Polina Refusova", phone="+7 926 555-05-05")
    case = Case.objects.get(inquiries=sent["id"])
    page.get_by_role("link", name="Cases").click()
    card = page.locator(f'.cf-case[data-case="{case.pk}"]')
    card.drag_to(page.locator('.cf-column[data-stage="review"]'))
    error = card.locator("#move-error")
    expect(error).to_contain_text("cannot go from New inquiry to Review")
    expect(error).to_be_in_viewport()
    expect(card).to_have_class(re.compile("cf-refused"))


def test_moving_a_card_to_lost_asks_for_a_reason_from_the_list(rita_page, send_web_inquiry, screenshot):
    page = rita_page
    sent = send_web_inquiry(name="Lidia Poteryaeva", phone="+7 926 555-06-06")
    case = Case.objects.get(inquiries=sent["id"])
    page.get_by_role("link", name="Cases").click()
    lost = page.locator('.cf-column[data-stage="lost"]')
    expect(lost.locator("[data-count]")).to_have_text("0")
    card = page.locator(f'.cf-case[data-case="{case.pk}"]')

    card.drag_to(lost)
    expect(card.locator("#move-error")).to_have_text("Say why the case is lost.")
    card.get_by_label("Why is the case lost?").select_option(label="Too expensive")
    card.get_by_label("Details").fill("found a cheaper clinic")
    screenshot(page, "kanban-lost-reason", caret="initial")
    card.get_by_role("button", name="Move to Lost").click()

    # The Lost column stays collapsed, with its count; opening it shows the card and its reason.
    expect(lost.locator("[data-count]")).to_have_text("1")
    expect(page.locator(f'.cf-case[data-case="{case.pk}"]')).to_have_count(0)
    case.refresh_from_db()
    assert (case.stage, case.lost_reason) == (Stage.LOST, "Too expensive: found a cheaper clinic")
    assert case.listed_lost_reason.name == "Too expensive"
    page.get_by_role("link", name="Show 1 lost case").click()
    expect(lost.locator(f'.cf-case[data-case="{case.pk}"]')).to_contain_text("Too expensive: found a cheaper clinic")
    expect(page).to_have_url(re.compile(r"lost=1"))
    screenshot(page, "kanban-lost-open", caret="initial")
    page.get_by_role("link", name="Hide lost cases").click()
    expect(lost.locator(".cf-case")).to_have_count(0)


def test_the_collapsed_lost_column_and_filters_fit_1366x768(rita_page, send_web_inquiry, screenshot):
    page = rita_page
    long_name = "Konstantinopolskaya" * 8  # a 152-letter name from the public form
    sent = [send_web_inquiry(name=name, phone=f"+7 926 555-07-{n:02}")
            for n, name in enumerate([long_name, "Irina Filtrova", "Oleg Ushedshiy"])]
    gone = Case.objects.get(inquiries=sent[2]["id"])
    from clinicflow.funnel.services import case_move

    case_move(case=gone, to_stage=Stage.LOST, reason="No answer")
    page.get_by_role("link", name="Cases").click()
    lost = page.locator('.cf-column[data-stage="lost"]')
    expect(lost.get_by_role("link", name="Show 1 lost case")).to_be_visible()
    box = lost.bounding_box()
    assert box["x"] + box["width"] <= 1366, box
    assert no_horizontal_page_scroll(page)
    screenshot(page, "kanban-1366", caret="initial")

    page.get_by_label("Search cases by name or phone").fill("Filtrova")
    expect(page.locator(".cf-case")).to_have_count(1)
    expect(page.locator(".cf-case")).to_contain_text("Irina Filtrova")
    expect(page.get_by_label("Search cases by name or phone")).to_be_focused()
    page.get_by_label("Search cases by name or phone").fill("")
    expect(page.locator(".cf-case")).to_have_count(2)
    assert no_horizontal_page_scroll(page)


def test_the_board_fits_a_390_px_phone(rita_page, send_web_inquiry, screenshot):
    page = rita_page
    send_web_inquiry(name="Konstantinopolskaya" * 8, phone="+7 926 555-08-01")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/cases/")
    expect(page.get_by_label("Search cases by name or phone")).to_be_visible()
    # The columns scroll sideways inside the board; the page itself never does.
    assert no_horizontal_page_scroll(page)
    card = page.locator(".cf-case").first
    assert card.bounding_box()["width"] <= 390
    screenshot(page, "kanban-390", caret="initial", full_page=True)
