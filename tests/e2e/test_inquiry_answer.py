from playwright.sync_api import expect

from clinicflow.inbox.models import Inquiry


def test_a_recorded_answer_takes_the_inquiry_out_of_the_queue_and_shows_the_first_response(
        rita_page, send_web_inquiry, screenshot):
    page = rita_page
    answered = send_web_inquiry(name="Natalia Orlova", phone="+7 915 555-05-05", comment="Can I come on Saturday?")
    waiting = send_web_inquiry(name="Mikhail Popov", phone="+7 916 555-06-06")
    page.goto(f"/inquiries/{answered['id']}/")
    expect(page.locator("#first-response")).to_have_text("not yet")

    page.locator("#response-text").fill("Called back: booked Saturday 10:30 with the cardiologist.")
    page.locator("#respond").click()
    expect(page.locator("#inquiry-status")).to_have_text("Answered")
    expect(page.locator("#first-response")).to_contain_text("Rita")
    expect(page.locator(".cf-timeline")).to_contain_text("booked Saturday 10:30")
    inquiry = Inquiry.objects.get(pk=answered["id"])
    assert inquiry.first_response_at is not None
    assert inquiry.first_response_by.username == "rita"
    screenshot(page, "inquiry-answered")

    page.get_by_role("link", name="Queue").click()
    expect(page.locator(f'#queue tr[data-id="{waiting["id"]}"]')).to_be_visible()
    expect(page.locator(f'#queue tr[data-id="{answered["id"]}"]')).to_have_count(0)
    expect(page.locator("#queue-total")).to_have_text("1")
