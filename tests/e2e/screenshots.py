"""The pictures in README.md and docs/user-guide.md: the demo clinic, in Russian, as its receptionist sees it.

Run on demand (not part of the suite: the file name does not start with test_, so only an explicit path
collects it), then look at the pictures and commit them:

    python3 dev.py test tests/e2e/screenshots.py -p no:cacheprovider

It loads the demo clinic (`clinicflow demo`, seed 7) into the browser tests' empty database and saves
docs/img/queue.png, card.png and kanban.png at 1366x768 and queue-phone.png at 390x844. Each is the
visible screen only (never the full page), so each stays well under 300 KB.
"""

from pathlib import Path

import pytest
from django.db.models import Count
from playwright.sync_api import Page, expect

from clinicflow.accounts.models import StaffMember
from clinicflow.demo.clinic import BRANCHES, MOSCOW, demo_password
from clinicflow.demo.load import demo_load
from clinicflow.funnel.models import Case, Stage
from tests.e2e.conftest import VIEWPORT

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
MAX_BYTES = 300_000
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo_desk(browser, live_server) -> Page:
    """The demo's Moscow receptionist, who chose Russian, at the live queue of the demo clinic.

    The browser is Russian too, so that its own parts of the page (a date field's dd.mm.yyyy) are.
    """
    demo_load(seed=7)
    StaffMember.objects.filter(user__username="reception").update(language="ru")
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url, locale="ru-RU")
    page = context.new_page()
    page.goto("/login/")
    page.locator('input[name="username"]').fill("reception")
    page.locator('input[name="password"]').fill(demo_password("reception"))
    page.locator('input[name="password"]').press("Enter")
    page.wait_for_url("**/queue/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    yield page
    context.close()


def save(page: Page, name: str) -> None:
    path = IMAGES / f"{name}.png"
    page.mouse.move(0, 0)  # no hover highlight in the picture
    page.screenshot(path=path, full_page=False)
    assert path.stat().st_size < MAX_BYTES, f"{path} is {path.stat().st_size} bytes: keep pictures small"


def a_patient_with_a_story() -> int:
    """A Moscow patient whose case is waiting for the visit: contacts, consents, a visit, stage history."""
    case = (Case.objects.filter(stage=Stage.REMINDER, branch__name=BRANCHES[MOSCOW][0])
            .annotate(moves=Count("transitions")).order_by("-moves", "pk").first())
    return case.patient_id


def test_save_the_russian_queue_card_and_kanban(demo_desk):
    page = demo_desk
    expect(page.locator("#queue tr[data-href]").first).to_be_visible()
    save(page, "queue")

    page.goto(f"/patients/{a_patient_with_a_story()}/")
    expect(page.locator("#card-contacts h1")).to_be_visible()
    save(page, "card")

    page.goto("/cases/")
    expect(page.locator(".cf-case").first).to_be_visible()
    save(page, "kanban")


def test_save_the_russian_queue_on_a_phone(demo_desk):
    page = demo_desk
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("#queue tr[data-href]").first).to_be_visible()
    save(page, "queue-phone")
