"""A working morning at the clinic, page by page: every main page fits 1366x768 without sideways scrolling.

The `page` fixture fails the tour on any Content-Security-Policy violation, so the tour also walks the
pages that exist mostly for it (the phone-call form, patient search, the Django admin's screens).

The screenshots land in test-artifacts/screenshots/tour-*.png for a person to look at. The pictures in
the README and the user guide come from tests/e2e/screenshots.py (the demo clinic, in Russian).
"""

from datetime import time, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinicflow.accounts.models import Role
from clinicflow.clinic.models import Branch, Doctor, Service, Specialty, WorkingHours
from clinicflow.funnel.services import case_move
from clinicflow.inbox.models import Inquiry
from clinicflow.inbox.services import InquiryDraft, inquiry_receive, inquiry_respond, inquiry_take
from clinicflow.scheduling.models import Appointment
from clinicflow.tasks.services import task_create
from tests.conftest import make_staff

from .conftest import VIEWPORT, log_in

# name, phone, channel, minutes waiting, service, preferred time, utm (source, medium, campaign), taken by Katya
WAITING = [
    ("Tatiana Volkova", "+7 916 201-33-45", "phone", 26, "Cardiologist consultation", "Weekday evening", None, True),
    ("Dmitry Sokolov", "+7 925 318-02-17", "web", 11, "ECG", "", ("yandex", "cpc", "heart-autumn"), False),
    ("Anna Kuznetsova", "+7 903 455-21-90", "whatsapp", 4.2, "Dermatologist consultation", "Saturday morning",
     None, True),
    ("Igor Smirnov", "+7 977 610-44-08", "telegram", 3.4, "Teeth cleaning", "", None, False),
    ("Elena Morozova", "+7 915 702-66-31", "web", 2.1, "Pelvic ultrasound", "Any day after 17:00",
     ("google", "cpc", "womens-health"), False),
    ("Maxim Lebedev", "+7 926 833-19-52", "vk", 1.2, "Pediatrician visit", "", None, False),
    ("Olga Novikova", "+7 999 104-77-63", "web", 0.3, "", "", ("instagram", "social", "spring-checkup"), False),
]
# name, phone, the stages the case went through after New inquiry (a Lost stage takes the reason after it)
IN_THE_FUNNEL = [
    ("Sergey Pavlov", "+7 916 440-12-12", ["qualification"]),
    ("Marina Egorova", "+7 916 440-13-13", ["qualification", "booking"]),
    ("Alexey Kozlov", "+7 916 440-14-14", ["booking", "reminder"]),
    ("Yulia Nikolaeva", "+7 916 440-15-15", ["booking", "reminder", "completed"]),
    ("Victor Orlov", "+7 916 440-16-16", ["booking", "completed", "review"]),
    ("Svetlana Fedorova", "+7 916 440-17-17", ["booking", "completed", "rebooking"]),
    ("Roman Zaitsev", "+7 916 440-18-18", ["qualification", "lost", "Chose a clinic closer to home"]),
]


def open_around_the_clock(branch: Branch) -> Branch:
    """So the timers run whatever the hour the tests run at."""
    for weekday in range(7):
        WorkingHours.objects.create(branch=branch, weekday=weekday, opens=time(0), closes=time(23, 59, 59))
    return branch


@pytest.fixture
def clinic(db):
    tverskaya = open_around_the_clock(Branch.objects.create(name="Moscow, Tverskaya", time_zone="Europe/Moscow"))
    kutuzovsky = open_around_the_clock(Branch.objects.create(name="Moscow, Kutuzovsky", time_zone="Europe/Moscow"))
    specialties = {name: Specialty.objects.create(name=name)
                   for name in ["Cardiology", "Dermatology", "Gynecology", "Pediatrics", "Dentistry"]}
    for name, specialty in [("Cardiologist consultation", "Cardiology"), ("ECG", "Cardiology"),
                            ("Dermatologist consultation", "Dermatology"), ("Pelvic ultrasound", "Gynecology"),
                            ("Pediatrician visit", "Pediatrics"), ("Teeth cleaning", "Dentistry")]:
        Service.objects.create(name=name, specialty=specialties[specialty])
    doctor = Doctor.objects.create(full_name="Dr. Anna Petrova")
    doctor.specialties.add(specialties["Cardiology"])
    doctor.branches.add(tverskaya, kutuzovsky)
    rita = make_staff("rita", Role.RECEPTIONIST, [tverskaya, kutuzovsky])
    katya = make_staff("katya", Role.RECEPTIONIST, [tverskaya, kutuzovsky])
    return {"branches": [tverskaya, kutuzovsky], "rita": rita, "katya": katya, "doctor": doctor}


def receive(clinic, index: int, name: str, phone: str, channel: str = "web", minutes_ago: float = 60,
            service: str = "", preferred_time: str = "", utm=None, text: str = "") -> Inquiry:
    service = Service.objects.filter(name=service).first()
    utm = dict(zip(("utm_source", "utm_medium", "utm_campaign"), utm or (), strict=False))
    draft = InquiryDraft(channel=channel, phone=phone, full_name=name, consent=True, text=text, utm=utm,
                         branch_id=clinic["branches"][index % 2].pk, service_id=service and service.pk,
                         specialty_id=service and service.specialty_id, preferred_time=preferred_time,
                         received_at=timezone.now() - timedelta(minutes=minutes_ago))
    return inquiry_receive(draft=draft)[0]


@pytest.fixture
def morning(clinic):
    """A queue of people waiting, cases all along the funnel, a patient's history and a to-do list."""
    rita, katya = clinic["rita"], clinic["katya"]
    waiting = []
    for index, (name, phone, channel, minutes, service, when, utm, taken) in enumerate(WAITING):
        inquiry = receive(clinic, index, name, phone, channel, minutes, service, when, utm,
                          text="Hello! I would like to see a dermatologist about a mole on my back. "
                               "Is Saturday possible?" if name == "Anna Kuznetsova" else "")
        if taken:
            inquiry_take(inquiry=inquiry, by=katya)
        waiting.append(inquiry)
    for index, (name, phone, stages) in enumerate(IN_THE_FUNNEL):
        inquiry = receive(clinic, index, name, phone, minutes_ago=60 * 24 * (index + 1))
        inquiry_respond(inquiry=inquiry, by=rita, text="Called back.")
        reason = stages.pop() if "lost" in stages else ""
        for stage in stages:
            if stage == "completed":  # a visit is completed only after it was booked
                visit_at = timezone.now() - timedelta(days=1, hours=index)
                Appointment.objects.create(patient=inquiry.patient, case=inquiry.case, doctor=clinic["doctor"],
                                           branch=inquiry.branch, starts_at=visit_at, status="completed",
                                           ends_at=visit_at + timedelta(minutes=30))
            case_move(case=inquiry.case, to_stage=stage, by=rita, reason=reason if stage == "lost" else "")
    tatiana = waiting[0].patient
    Appointment.objects.create(patient=tatiana, case=waiting[0].case, doctor=clinic["doctor"],
                               service=Service.objects.get(name="Cardiologist consultation"),
                               branch=clinic["branches"][0], starts_at=timezone.now() + timedelta(days=2),
                               ends_at=timezone.now() + timedelta(days=2, minutes=30), created_by=katya)
    now, tverskaya = timezone.now(), clinic["branches"][0]
    for title, hours, patient, assignee in [
        ("Call back: ECG results are ready", -2, waiting[1].patient, rita),
        ("Remind about the appointment on Friday", 3, tatiana, rita),
        ("Confirm the ultrasound preparation", 26, waiting[4].patient, rita),
        ("Ask for a review after the visit", 5, None, None),
    ]:
        task_create(title=title, branch=tverskaya, due_at=now + timedelta(hours=hours), patient=patient,
                    assignee=assignee, role="" if assignee else Role.RECEPTIONIST, created_by=katya)
    return waiting


def fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"{page.url} scrolls sideways: {width}px wide"


def test_a_working_morning_fits_a_1366x768_screen_page_by_page(page, morning, screenshot):
    log_in(page, "rita", "pass-rita")
    expect(page.locator("#queue-total")).to_have_text(str(len(WAITING)))
    expect(page.locator("#queue .cf-timer.cf-late").first).to_be_visible()
    expect(page.locator("#queue .cf-timer.cf-soon").first).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "tour-queue")

    page.get_by_role("link", name="Anna Kuznetsova").click()
    expect(page.locator("#case-panel")).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "tour-inquiry")

    page.get_by_role("link", name="Cases").click()
    lost = sum("lost" in stages for _name, _phone, stages in IN_THE_FUNNEL)
    # The Lost column is collapsed to its count.
    expect(page.locator(".cf-case")).to_have_count(len(WAITING) + len(IN_THE_FUNNEL) - lost)
    expect(page.locator('.cf-column[data-stage="lost"] [data-count]')).to_have_text(str(lost))
    fits_the_screen(page)
    screenshot(page, "tour-kanban")

    page.goto(f"/patients/{morning[0].patient_id}/")
    expect(page.get_by_role("heading", name="Tatiana Volkova")).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "tour-patient-card")

    page.get_by_role("link", name="Tasks").click()
    expect(page.get_by_text("Call back: ECG results are ready")).to_be_visible()
    fits_the_screen(page)
    screenshot(page, "tour-tasks")

    page.get_by_role("link", name="Patients").click()
    page.get_by_placeholder("Name, phone or e-mail").fill("Volkova")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("link", name="Tatiana Volkova")).to_be_visible()
    fits_the_screen(page)

    page.goto("/inquiries/new/")
    expect(page.get_by_label("Phone")).to_be_focused()
    fits_the_screen(page)
    screenshot(page, "tour-phone-inquiry")


def test_the_admin_screens_work_under_the_content_security_policy(page, morning, clinic, screenshot):
    """The admin's own scripts (inlines, date and time pickers, two-box selects) run without a violation."""
    User.objects.create_superuser("root", password="pass-root")
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pass-root")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_contain_text("clinicflow")
    screenshot(page, "tour-admin")

    user_page = f"/admin/auth/user/{clinic['rita'].pk}/change/?full=1"  # the full form has date pickers
    for url, ready in [
        (user_page, ".datetimeshortcuts"),
        (f"/admin/clinic/branch/{clinic['branches'][0].pk}/change/", "#id_name"),
        (f"/admin/clinic/doctor/{clinic['doctor'].pk}/change/", "#id_full_name"),
        ("/admin/clinic/clinicsettings/", "#changelist"),
        ("/admin/axes/accessattempt/", "#changelist"),
    ]:
        page.goto(url)
        expect(page.locator(ready).first).to_be_visible()
    page.goto(user_page)
    page.locator(".datetimeshortcuts a").first.click()  # "Today": the admin's own script, not inline
    page.goto(f"/admin/clinic/branch/{clinic['branches'][0].pk}/change/")
    page.locator(".add-row a").first.click()  # add another working-hours row (inlines.js)
