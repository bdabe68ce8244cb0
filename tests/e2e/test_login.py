from playwright.sync_api import expect

from .conftest import log_in


def test_a_receptionist_logs_in_through_the_form_and_lands_on_the_live_queue(page, receptionist, screenshot):
    page.goto("/")
    expect(page).to_have_url("/login/?next=/")

    log_in(page, "rita", "not-her-password")
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    expect(page.get_by_label("User name")).to_have_value("rita")
    expect(page.get_by_label("Password")).to_be_empty()
    screenshot(page, "login-wrong-password")

    log_in(page, "rita", "pass-rita")
    expect(page).to_have_url("/queue/")
    expect(page.get_by_role("heading", name="Live queue")).to_be_visible()
    expect(page.locator("nav")).to_contain_text("Rita · Receptionist")
    screenshot(page, "login-lands-on-queue")
