"""A receptionist books from the schedule at 1366x768, moves the visit, then cancels it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinicflow.funnel.models import Stage
from clinicflow.funnel.services import case_open_for
from clinicflow.scheduling.models import Appointment
from clinicflow.scheduling.slots import free_slots

pytestmark = pytest.mark.django_db(transaction=True)


def slot_button(page, slot):
    return page.locator(f'button[value="{slot.doctor_id}|{slot.starts_at.isoformat()}"]')


def test_a_receptionist_books_moves_and_cancels_from_the_schedule(rita_page, ivan, doctor, moscow):
    page = rita_page
    case, _ = case_open_for(patient=ivan, branch=moscow)
    tomorrow = timezone.now() + timedelta(days=1)
    first, second = free_slots(branch=moscow, doctor=doctor, start=tomorrow, end=tomorrow + timedelta(days=7))[:2]
    day = first.starts_at.astimezone(moscow.zone).date()

    page.goto(f"/schedule/?case={case.pk}&date={day.isoformat()}&view=day")
    expect(page.locator("#schedule-purpose")).to_contain_text("Booking for Ivan Petrov")
    slot_button(page, first).click()
    expect(page.get_by_role("status").filter(has_text="Booked: Dr. Anna Petrova")).to_be_visible()
    appointment = Appointment.objects.get()
    case.refresh_from_db()
    assert case.stage == Stage.REMINDER

    page.locator(f'[data-move="{appointment.pk}"]').click()
    expect(page.locator("#schedule-purpose")).to_contain_text("Moving the visit of Ivan Petrov")
    slot_button(page, second).click()
    expect(page.get_by_role("status").filter(has_text="Moved to")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.starts_at == second.starts_at

    visit = page.locator(f'[data-visit="{appointment.pk}"]')
    visit.locator("summary").click()
    visit.get_by_placeholder("Why (optional)").fill("Patient will call back")
    visit.get_by_role("button", name="Cancel the visit").click()
    expect(page.get_by_role("status").filter(has_text="Cancelled:")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_the_schedule_week_fits_a_phone(rita_page, ivan, doctor):
    page = rita_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/schedule/?patient={ivan.pk}")
    expect(page.locator("#schedule-grid")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_b_in_the_queue_opens_the_schedule_for_the_selected_inquiry(rita_page, moscow, doctor):
    from clinicflow.inbox.services import InquiryDraft, inquiry_receive

    inquiry, _ = inquiry_receive(draft=InquiryDraft(channel="web", phone="+79161112233", full_name="Olga Queue",
                                                    consent=True, branch_id=moscow.pk, text="Hello"))
    page = rita_page
    page.goto("/queue/")
    page.keyboard.press("j")
    page.keyboard.press("b")
    page.wait_for_url(f"**/schedule/?patient={inquiry.patient_id}&case={inquiry.case_id}")
    expect(page.locator("#schedule-purpose")).to_contain_text("Booking for Olga Queue")
