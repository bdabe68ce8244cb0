"""A front-office manager imports a small spreadsheet: upload, map a column, preview, import (1366x768 and 390 px)."""

import pytest
from playwright.sync_api import expect

from clinicflow.inbox.models import Inquiry
from clinicflow.patients.models import Patient

from .conftest import log_in

# A Russian Excel export: Windows-1251, semicolons; the wish column's title is one the guess does not know.
FILE = ("ФИО;Телефон;Пожелания клиента;Согласие\n"
        "Иванова Анна Сергеевна;8 (916) 555-01-01;Хочет к кардиологу;да\n"
        "Петров Олег;+7 916 555-02-02;;да\n"
        f"{'Оченьдлинноеимябезпробелов' * 8};12-34;;да\n").encode("cp1251")


@pytest.mark.parametrize("width", [1366, 390])
def test_a_manager_maps_previews_and_imports_a_csv(page, manager, moscow, tmp_path, screenshot, width):
    page.set_viewport_size({"width": width, "height": 768 if width > 1000 else 844})
    log_in(page, "maria", "pass-maria")
    page.wait_for_url("**/queue/")
    if width < 1000:
        page.get_by_role("button", name="Menu").click()  # at phone width the menu is folded
    page.get_by_role("link", name="Import").click()
    upload = tmp_path / "clients.csv"
    upload.write_bytes(FILE)
    page.get_by_label("CSV or XLSX file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and map columns").click()
    page.wait_for_url("**/imports/*/")

    # The unknown column is ignored until mapped; mapping it turns the first line into a lead.
    expect(page.locator("#import-counts")).to_contain_text("0 open leads")
    page.get_by_label("Пожелания клиента").select_option("comment")
    expect(page.locator("#import-counts")).to_contain_text("1 open leads")
    expect(page.locator("#import-counts")).to_contain_text("1 refused")
    expect(page.locator("#refused-lines")).to_contain_text("Line 4")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # the long name wraps
    screenshot(page, f"import-preview-{width}")

    page.get_by_role("button", name="Import 2 lines").click()
    expect(page.locator("#import-result")).to_contain_text("2 new patients")
    expect(page.locator("#import-result")).to_contain_text("1 open leads")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"import-done-{width}")
    assert set(Patient.objects.values_list("full_name", flat=True)) == {"Иванова Анна Сергеевна", "Петров Олег"}
    assert Inquiry.objects.get().patient.full_name == "Иванова Анна Сергеевна"
