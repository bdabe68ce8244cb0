from playwright.sync_api import expect

from clinicflow.inbox.models import Inquiry
from clinicflow.patients.models import Patient


def test_a_phone_inquiry_with_mistakes_shows_them_all_and_a_good_one_opens_the_inquiry(rita_page, moscow,
                                                                                       screenshot):
    page = rita_page
    page.keyboard.press("n")
    expect(page).to_have_url("/inquiries/new/")
    form = page.locator("form", has=page.get_by_label("Phone"))
    expect(form.get_by_label("Phone")).to_be_focused()

    form.get_by_label("Phone").fill("12-34")
    form.get_by_label("Name").fill("Andrey Fedorov")
    form.get_by_label("Branch").select_option(label=moscow.name)
    form.get_by_role("button", name="Save and take").click()
    expect(page.locator('[data-error-for="phone"]')).to_be_visible()
    expect(page.locator('[data-error-for="consent"]')).to_have_text(
        "The patient's consent to the processing of personal data is required.")
    expect(form.get_by_label("Name")).to_have_value("Andrey Fedorov")
    screenshot(page, "phone-inquiry-errors")
    assert not Inquiry.objects.exists()
    assert not Patient.objects.exists()

    form.get_by_label("Phone").fill("8 (916) 555-07-07")
    form.get_by_label("The caller agreed to the processing of personal data").check()
    form.get_by_role("button", name="Save and take").click()
    page.wait_for_url("**/inquiries/*/")
    expect(page).to_have_url(f"/inquiries/{Inquiry.objects.get().pk}/")
    expect(page.get_by_role("heading", name="Andrey Fedorov")).to_be_visible()
    expect(page.locator("#inquiry-status")).to_have_text("Taken")
    expect(page.get_by_text("+7 916 555-07-07")).to_be_visible()
    screenshot(page, "phone-inquiry-created")
