"""/queue/: what each row says (who took it, zones, urgency, "from 09:00") and the cheap 3-second refresh."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicflow.funnel.models import IntakeQuestion
from clinicflow.inbox.models import Inquiry
from clinicflow.inbox.services import inquiry_apply_given, inquiry_close, inquiry_respond, inquiry_take

from .conftest import MOSCOW, WEDNESDAY_10

URL = "/queue/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def row_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-id="(\d+)"', response.content.decode())]


def version(response) -> str:
    return re.search(r'data-version="([^"]+)"', response.content.decode()).group(1)


def refresh(client, known: str):
    return client.get(URL, HTTP_X_QUEUE_VERSION=known, **HTMX)


@pytest.fixture
def at(time_machine):
    def at(moment: datetime):
        time_machine.move_to(moment, tick=False)

    return at


@pytest.fixture
def waiting(receive, at):
    at(WEDNESDAY_10 + timedelta(hours=1))
    return receive("+79161234501", full_name="Olga Sokolova", received_at=WEDNESDAY_10)


class TestTheUnchangedRefresh:
    def test_it_answers_204_without_a_body_with_one_query_of_its_own(self, rita_client, waiting):
        known = version(rita_client.get(URL))
        refresh(rita_client, "warm-up")  # the log-in's own queries (session, user, roles) happen on every request
        with CaptureQueriesContext(connection) as queries:
            response = refresh(rita_client, known)
        assert response.status_code == 204
        assert response.content == b""
        on_inquiries = [q for q in queries.captured_queries if "inbox_inquiry" in q["sql"]]
        assert len(on_inquiries) == 1

    def test_a_page_without_a_version_gets_the_whole_queue(self, rita_client, waiting):
        assert row_ids(rita_client.get(URL, **HTMX)) == [waiting.pk]

    def test_a_version_that_is_not_ours_gets_the_whole_queue(self, rita_client, waiting):
        for garbage in ("", "x", "1.2~", "1.2~abc", "~99999999999"):
            assert refresh(rita_client, garbage).status_code == 200

    def test_a_new_inquiry_changes_it(self, rita_client, waiting, receive):
        known = version(rita_client.get(URL))
        receive("+79161234502", received_at=WEDNESDAY_10 + timedelta(minutes=5))
        assert len(row_ids(refresh(rita_client, known))) == 2

    @pytest.mark.parametrize("change", ["take", "answer", "close", "apply the name given"])
    def test_any_change_of_a_waiting_inquiry_changes_it(self, rita_client, receptionist, waiting, at, change):
        known = version(rita_client.get(URL))
        at(WEDNESDAY_10 + timedelta(hours=1, seconds=1))
        if change == "take":
            inquiry_take(inquiry=waiting, by=receptionist)
        elif change == "answer":
            inquiry_respond(inquiry=waiting, by=receptionist, text="Called back")
        elif change == "close":
            inquiry_close(inquiry=waiting, by=receptionist, reason="Spam")
        else:
            waiting.patient.full_name = ""
            waiting.patient.save()
            inquiry_apply_given(inquiry=waiting, by=receptionist, fields=["name"])
        assert refresh(rita_client, known).status_code == 200

    def test_leaving_and_arriving_at_once_changes_it(self, rita_client, receptionist, waiting, receive):
        known = version(rita_client.get(URL))
        inquiry_respond(inquiry=waiting, by=receptionist, text="Called back")
        receive("+79161234502", received_at=WEDNESDAY_10)
        assert refresh(rita_client, known).status_code == 200

    def test_another_branchs_inquiry_does_not_change_it(self, rita_client, waiting, receive, novosibirsk):
        known = version(rita_client.get(URL))
        receive("+79231234567", branch=novosibirsk)
        assert refresh(rita_client, known).status_code == 204

    def test_it_renders_again_when_the_branch_closes_and_the_timers_stop(self, rita_client, waiting, at):
        at(datetime(2025, 3, 12, 12, 55, tzinfo=MOSCOW))
        known = version(rita_client.get(URL))
        at(datetime(2025, 3, 12, 12, 59, 59, tzinfo=MOSCOW))
        assert refresh(rita_client, known).status_code == 204
        at(datetime(2025, 3, 12, 13, 0, tzinfo=MOSCOW))  # lunch break: the clocks pause
        response = refresh(rita_client, known)
        assert response.status_code == 200
        assert 'data-open="0"' in response.content.decode()

    def test_it_renders_again_at_least_every_ten_minutes(self, rita_client, waiting, at):
        known = version(rita_client.get(URL))
        at(WEDNESDAY_10 + timedelta(hours=1, minutes=10))
        assert refresh(rita_client, known).status_code == 200


class TestTheRows:
    def test_taken_by_names_who_took_it_and_a_dash_for_nobody(self, rita_client, receptionist, receive, waiting):
        other = receive("+79161234502", received_at=WEDNESDAY_10 + timedelta(minutes=1))
        inquiry_take(inquiry=other, by=receptionist)
        content = rita_client.get(URL).content.decode()
        cells = re.findall(r'class="small cf-taken-by">(.*?)</td>', content, re.S)
        assert "Rita" in cells[1] and "—" in cells[0]
        assert ">new<" not in content

    def test_the_most_urgent_comes_first_across_branches(self, client, clinic_admin, receive, at, novosibirsk):
        # 11:00 in Moscow is 15:00 in Novosibirsk. Moscow's form came first by the clock (10:50 Moscow) but
        # Novosibirsk's call (06:55 Moscow, 10:55 there) has waited four working hours: it is the late one.
        at(WEDNESDAY_10 + timedelta(hours=1))
        moscow_form = receive("+79161234501", received_at=WEDNESDAY_10 + timedelta(minutes=50))
        novosibirsk_call = receive("+79231234567", branch=novosibirsk,
                                   received_at=WEDNESDAY_10 - timedelta(hours=3, minutes=5))
        moscow_earlier = receive("+79161234502", received_at=WEDNESDAY_10 + timedelta(minutes=40))
        client.force_login(clinic_admin)
        assert row_ids(client.get(URL)) == [novosibirsk_call.pk, moscow_earlier.pk, moscow_form.pk]

    def test_times_of_another_zone_say_which_zone(self, client, make_receptionist, receive, at, moscow, novosibirsk):
        at(WEDNESDAY_10 + timedelta(hours=1))
        receive("+79161234501", received_at=WEDNESDAY_10)
        receive("+79231234567", branch=novosibirsk, received_at=WEDNESDAY_10)
        client.force_login(make_receptionist([moscow, novosibirsk]))
        content = client.get(URL).content.decode()
        assert content.count("Novosibirsk, UTC+7") == 1
        assert "Moscow, UTC+3" not in content  # the viewer's own zone (her first branch: Moscow) goes unsaid

    def test_before_opening_the_timer_says_when_the_clock_starts(self, rita_client, receive, at):
        at(datetime(2025, 3, 12, 7, 30, tzinfo=MOSCOW))
        receive("+79161234501", received_at=datetime(2025, 3, 12, 7, 0, tzinfo=MOSCOW))
        content = rita_client.get(URL).content.decode()
        assert "from 09:00" in content
        assert "data-timer" not in content

    def test_over_the_weekend_it_names_the_day(self, rita_client, receive, at):
        saturday = datetime(2025, 3, 15, 11, 0, tzinfo=MOSCOW)
        at(saturday)
        receive("+79161234501", received_at=saturday)
        assert "from Mon 09:00" in rita_client.get(URL).content.decode()


@pytest.fixture
def make_receptionist(db):
    from clinicflow.accounts.models import Role
    from tests.conftest import make_staff

    return lambda branches: make_staff("vera", Role.RECEPTIONIST, branches)


class TestNextInquiry:
    def test_it_takes_the_most_urgent_untaken_one_and_opens_it(self, rita_client, receptionist, receive, at):
        at(WEDNESDAY_10 + timedelta(hours=1))
        answered = receive("+79161234501", received_at=WEDNESDAY_10)
        inquiry_respond(inquiry=answered, by=receptionist, text="Booked")
        oldest = receive("+79161234502", received_at=WEDNESDAY_10 + timedelta(minutes=1))
        receive("+79161234503", received_at=WEDNESDAY_10 + timedelta(minutes=2))
        response = rita_client.post("/inquiries/next/")
        assert response.url == f"/inquiries/{oldest.pk}/"
        oldest.refresh_from_db()
        assert (oldest.status, oldest.taken_by) == (Inquiry.Status.TAKEN, receptionist)

    def test_it_skips_what_a_colleague_took(self, rita_client, receptionist, outsider, receive, at):
        at(WEDNESDAY_10 + timedelta(hours=1))
        taken = receive("+79161234501", received_at=WEDNESDAY_10)
        inquiry_take(inquiry=taken, by=receptionist)
        untaken = receive("+79161234502", received_at=WEDNESDAY_10 + timedelta(minutes=5))
        assert rita_client.post("/inquiries/next/").url == f"/inquiries/{untaken.pk}/"

    def test_nobody_waiting_leads_back_to_the_queue(self, rita_client, outsider, receive, novosibirsk):
        theirs = receive("+79231234567", branch=novosibirsk)
        assert rita_client.post("/inquiries/next/").url == "/queue/"
        theirs.refresh_from_db()
        assert theirs.status == Inquiry.Status.NEW  # another branch's inquiry is never taken

    def test_it_is_a_post(self, rita_client):
        assert rita_client.get("/inquiries/next/").status_code == 405

    def test_the_answered_page_offers_it(self, rita_client, receptionist, waiting):
        inquiry_respond(inquiry=waiting, by=receptionist, text="Booked")
        assert 'id="next-inquiry"' in rita_client.get(f"/inquiries/{waiting.pk}/").content.decode()


class TestTheIntakeScript:
    def test_it_starts_from_the_specialty_of_the_service_chosen_on_the_form(self, rita_client, receive, consultation):
        assert IntakeQuestion.objects.get(key="specialty").kind == IntakeQuestion.Kind.SPECIALTY  # the default script
        inquiry = receive("+79161234501", service_id=consultation.pk)
        content = rita_client.get(f"/inquiries/{inquiry.pk}/").content.decode()
        assert f'<option value="{consultation.specialty_id}" selected>' in content
        inquiry.case.refresh_from_db()
        assert inquiry.case.intake == {}  # shown as the first answer, saved only when the receptionist saves

    def test_saved_answers_win(self, rita_client, receive, consultation, cardiology):
        assert IntakeQuestion.objects.get(key="specialty").kind == IntakeQuestion.Kind.SPECIALTY  # the default script
        inquiry = receive("+79161234501", service_id=consultation.pk)
        inquiry.case.intake = {"specialty": "999"}
        inquiry.case.save()
        assert "selected" not in rita_client.get(f"/inquiries/{inquiry.pk}/").content.decode().split(
            'id="q-specialty"')[1].split("</select>")[0]
