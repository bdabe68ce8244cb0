from playwright.sync_api import expect


def test_a_website_inquiry_appears_in_the_open_queue_without_a_reload(rita_page, send_web_inquiry, screenshot):
    page = rita_page
    send_web_inquiry(name="Olga Sokolova", phone="+7 916 555-01-01")
    page.reload()
    expect(page.locator("#queue-unread")).to_have_text("1")
    expect(page.locator("#nav-unread")).to_have_text("1")
    page.evaluate("window.stillTheSamePage = true")

    sent = send_web_inquiry(name="Pavel Morozov", phone="8 (925) 555-02-02", utm_source="yandex",
                            utm_medium="cpc", utm_campaign="cardiology-spring", page_url="https://clinic.example/heart")

    # The queue polls every 3 seconds: the row arrives by itself.
    row = page.locator(f'#queue tr[data-id="{sent["id"]}"]')
    expect(row).to_be_visible(timeout=5_000)
    expect(row).to_contain_text("Pavel Morozov")
    expect(row).to_contain_text("Website")
    expect(row).to_contain_text("yandex / cardiology-spring")
    expect(page.locator("#queue-unread")).to_have_text("2")
    expect(page.locator("#queue-total")).to_have_text("2")
    expect(page.locator("#nav-unread")).to_have_text("2")
    expect(page).to_have_title("(2) Live queue · clinicflow")
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot(page, "queue-new-inquiry-arrives")


NOTIFICATION_STUB = """
window.__notified = [];
window.Notification = function (title, options) { window.__notified.push([title, options && options.body]); };
window.Notification.permission = "granted";
window.Notification.requestPermission = function () { return Promise.resolve("granted"); };
"""


def test_a_new_inquiry_raises_a_browser_notification(rita_page, send_web_inquiry):
    page = rita_page
    page.add_init_script(NOTIFICATION_STUB)  # stands in for the desktop's notification service
    send_web_inquiry(name="Olga Sokolova", phone="+7 916 555-01-01")
    page.reload()
    assert page.evaluate("window.__notified") == []  # what was there on arrival is not news
    sent = send_web_inquiry(name="Pavel Morozov", phone="+7 925 555-02-02")
    expect(page.locator(f'#queue tr[data-id="{sent["id"]}"]')).to_be_visible(timeout=5_000)
    # The notification follows htmx's settle step, a moment after the row is swapped in.
    page.wait_for_function("window.__notified.length > 0", timeout=2_000)
    assert page.evaluate("window.__notified") == [["New inquiry in clinicflow", "2 people waiting"]]
