"""An admin issues an API token in the browser, copies the key from the page, and revokes the token."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from clinicflow.accounts.models import ApiToken


@pytest.mark.parametrize("width", [1366, 390])
def test_an_admin_issues_a_token_sees_the_key_once_and_revokes_it(page, receptionist, screenshot, width):
    User.objects.create_superuser("root", "root@example.com", "pass-root")
    page.set_viewport_size({"width": width, "height": 768 if width > 1000 else 844})
    page.goto("/admin/login/?next=/admin/accounts/apitoken/add/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pass-root")
    page.get_by_role("button", name="Log in").click()

    page.get_by_label("Name").fill("Website")
    page.get_by_label("User").select_option(label="rita")
    page.get_by_label("inquiries:write").check()
    page.get_by_label("Expires").select_option(label="30 days")
    screenshot(page, f"api-token-issue-{width}")
    page.get_by_role("button", name="Save", exact=True).click()

    key = page.locator("#issued-key").input_value()
    assert ApiToken.authenticate(key).scopes == ["inquiries:write"]
    assert not any(key in cookie["value"] for cookie in page.context.cookies())
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing runs off the screen
    screenshot(page, f"api-token-issued-{width}")

    page.get_by_role("link", name="I have copied the key").click()
    page.get_by_role("link", name="Website").click()
    expect(page.locator("#issued-key")).to_have_count(0)
    page.get_by_role("button", name="Revoke this token (cannot be undone)").click()
    expect(page.get_by_text("revoked.")).to_be_visible()
    assert ApiToken.authenticate(key) is None
