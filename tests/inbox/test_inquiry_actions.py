"""Take, answer and close an inquiry: the pages of the front desk and the same actions through the API."""

from datetime import timedelta

import pytest
from django.test import Client

from clinicflow.accounts.models import ApiToken
from clinicflow.automation.models import Job
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import inquiry_respond

from .conftest import WEDNESDAY_10


@pytest.fixture
def inquiry(receive, time_machine):
    time_machine.move_to(WEDNESDAY_10, tick=False)
    return receive(full_name="Ivan Petrov")


@pytest.fixture
def later(time_machine):
    """Move the clock on by some minutes."""

    def later(minutes: int):
        time_machine.move_to(WEDNESDAY_10 + timedelta(minutes=minutes), tick=False)
        return WEDNESDAY_10 + timedelta(minutes=minutes)

    return later


@pytest.fixture
def oleg_client(outsider) -> Client:
    client = Client()
    client.force_login(outsider)
    return client


@pytest.fixture
def maria_client(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def page(inquiry) -> str:
    return f"/inquiries/{inquiry.pk}/"


def reloaded(inquiry) -> Inquiry:
    return Inquiry.objects.get(pk=inquiry.pk)


class TestInquiryPage:
    def test_it_shows_the_inquiry_to_staff_of_its_branch(self, rita_client, inquiry):
        response = rita_client.get(page(inquiry))
        assert response.status_code == 200
        assert "Ivan Petrov" in response.content.decode()

    def test_it_hides_the_inquiry_from_another_branch(self, oleg_client, inquiry):
        assert oleg_client.get(page(inquiry)).status_code == 404

    def test_it_sends_anonymous_visitors_to_log_in(self, client, inquiry):
        response = client.get(page(inquiry))
        assert response.status_code == 302
        assert response.url.startswith("/login/")

    def test_it_answers_404_for_an_unknown_inquiry(self, rita_client, moscow):
        assert rita_client.get("/inquiries/999999/").status_code == 404


class TestTakePage:
    def test_it_takes_the_inquiry(self, rita_client, receptionist, inquiry, later):
        at = later(1)
        response = rita_client.post(page(inquiry) + "take/")
        assert response.status_code == 302
        assert response.url == page(inquiry)
        inquiry = reloaded(inquiry)
        assert (inquiry.status, inquiry.taken_by, inquiry.taken_at) == ("taken", receptionist, at)

    def test_it_keeps_the_first_taker(self, rita_client, maria_client, receptionist, inquiry):
        rita_client.post(page(inquiry) + "take/")
        maria_client.post(page(inquiry) + "take/")
        assert reloaded(inquiry).taken_by == receptionist

    def test_it_accepts_only_post(self, rita_client, inquiry):
        assert rita_client.get(page(inquiry) + "take/").status_code == 405
        assert reloaded(inquiry).status == "new"

    def test_it_refuses_another_branch(self, oleg_client, inquiry):
        assert oleg_client.post(page(inquiry) + "take/").status_code == 404
        assert reloaded(inquiry).taken_by is None

    def test_it_sends_anonymous_visitors_to_log_in(self, client, inquiry):
        assert client.post(page(inquiry) + "take/").status_code == 302
        assert reloaded(inquiry).status == "new"


class TestRespondPage:
    def test_it_records_the_first_response_and_stops_the_clock(self, rita_client, receptionist, inquiry, later):
        at = later(3)
        response = rita_client.post(page(inquiry) + "respond/", {"text": "  Called back, booked for Friday  "})
        assert response.status_code == 302
        inquiry = reloaded(inquiry)
        assert (inquiry.first_response_at, inquiry.first_response_by) == (at, receptionist)
        assert inquiry.status == "answered"
        assert inquiry.taken_by == receptionist
        message = inquiry.messages.get()
        assert (message.direction, message.body, message.author) == ("out", "Called back, booked for Friday",
                                                                     receptionist)
        assert Job.objects.get().state == Job.State.CANCELLED

    def test_a_second_answer_does_not_move_the_first_response(self, rita_client, maria_client, receptionist,
                                                              inquiry, later):
        first = later(2)
        rita_client.post(page(inquiry) + "respond/", {"text": "Called, no answer yet"})
        later(30)
        maria_client.post(page(inquiry) + "respond/", {"text": "Booked for Friday"})
        inquiry = reloaded(inquiry)
        assert (inquiry.first_response_at, inquiry.first_response_by) == (first, receptionist)
        assert inquiry.messages.filter(direction="out").count() == 2

    def test_it_refuses_an_empty_answer_with_a_clear_message(self, rita_client, inquiry):
        response = rita_client.post(page(inquiry) + "respond/", {"text": "   "}, follow=True)
        assert response.status_code == 200
        assert "Write what was said to the patient." in response.content.decode()
        inquiry = reloaded(inquiry)
        assert (inquiry.first_response_at, inquiry.status) == (None, "new")
        assert not inquiry.messages.exists()
        assert Job.objects.get().state == Job.State.PENDING

    def test_it_refuses_another_branch(self, oleg_client, inquiry):
        assert oleg_client.post(page(inquiry) + "respond/", {"text": "Hello"}).status_code == 404
        assert reloaded(inquiry).first_response_at is None


class TestTwoAnswersAtOnce:
    """Two receptionists open the same inquiry and both answer: the first answer is the one that counts."""

    def test_the_later_answer_does_not_overwrite_the_first_response(self, receptionist, manager, inquiry, later):
        seen_by_rita, seen_by_maria = reloaded(inquiry), reloaded(inquiry)
        first = later(2)
        inquiry_respond(inquiry=seen_by_rita, by=receptionist, text="Called back")
        later(3)
        inquiry_respond(inquiry=seen_by_maria, by=manager, text="Called back too")
        inquiry = reloaded(inquiry)
        assert (inquiry.first_response_at, inquiry.first_response_by, inquiry.taken_by) == (
            first, receptionist, receptionist)
        assert inquiry.messages.count() == 2

    def test_the_answered_object_is_up_to_date(self, receptionist, inquiry, later):
        at = later(2)
        inquiry_respond(inquiry=inquiry, by=receptionist, text="Called back")
        assert (inquiry.status, inquiry.first_response_at, inquiry.taken_by) == ("answered", at, receptionist)


class TestClosePage:
    def test_it_closes_with_a_reason(self, rita_client, receptionist, inquiry):
        response = rita_client.post(page(inquiry) + "close/", {"reason": "Spam"})
        assert response.status_code == 302
        assert response.url == "/queue/"
        inquiry = reloaded(inquiry)
        assert (inquiry.status, inquiry.closed_reason) == ("closed", "Spam")
        note = inquiry.messages.get()
        assert (note.direction, note.body, note.author) == (Message.Direction.NOTE, "Closed: Spam", receptionist)
        assert Job.objects.get().state == Job.State.CANCELLED

    def test_it_needs_a_reason(self, rita_client, inquiry):
        response = rita_client.post(page(inquiry) + "close/", {"reason": " "}, follow=True)
        assert response.redirect_chain == [(page(inquiry), 302)]
        assert "Say why the inquiry is closed without an answer." in response.content.decode()
        assert reloaded(inquiry).status == "new"
        assert Job.objects.get().state == Job.State.PENDING

    def test_it_refuses_another_branch(self, oleg_client, inquiry):
        assert oleg_client.post(page(inquiry) + "close/", {"reason": "Spam"}).status_code == 404
        assert reloaded(inquiry).status == "new"


class TestApi:
    @pytest.fixture
    def oleg_auth(self, outsider) -> dict:
        _token, key = ApiToken.issue(user=outsider, name="oleg's script")
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def url(self, inquiry, action="") -> str:
        return f"/api/v1/inquiries/{inquiry.pk}" + action

    def test_it_reads_an_inquiry(self, client, auth, inquiry):
        response = client.get(self.url(inquiry), **auth)
        assert response.status_code == 200
        assert response.json()["status"] == "new"
        assert response.json()["response_due_at"].startswith("2025-03-12T07:05:00")  # 10:05 Moscow, in UTC

    def test_it_takes_an_inquiry(self, client, auth, receptionist, inquiry):
        response = client.post(self.url(inquiry, "/take"), **auth)
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["taken_by_id"]) == ("taken", receptionist.pk)

    def test_it_records_the_first_response_once(self, client, auth, receptionist, manager, inquiry, later):
        first = later(2)
        response = client.post(self.url(inquiry, "/responses"), {"text": "Called back"},
                               content_type="application/json", **auth)
        assert response.status_code == 200
        assert response.json()["status"] == "answered"
        assert response.json()["first_response_by_id"] == receptionist.pk
        later(20)
        _token, maria_key = ApiToken.issue(user=manager, name="maria")
        client.post(self.url(inquiry, "/responses"), {"text": "Booked"}, content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {maria_key}")
        inquiry = reloaded(inquiry)
        assert (inquiry.first_response_at, inquiry.first_response_by) == (first, receptionist)
        assert inquiry.messages.count() == 2

    def test_it_refuses_an_empty_response(self, client, auth, inquiry):
        response = client.post(self.url(inquiry, "/responses"), {"text": ""}, content_type="application/json",
                               **auth)
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"loc": ["body", "text"], "msg": "Write what was said to the patient.", "type": "invalid"}]
        assert reloaded(inquiry).first_response_at is None

    def test_it_refuses_a_response_without_text(self, client, auth, inquiry):
        response = client.post(self.url(inquiry, "/responses"), {}, content_type="application/json", **auth)
        assert response.status_code == 422
        assert not Message.objects.exists()

    def test_it_hides_the_inquiry_from_another_branch(self, client, oleg_auth, inquiry):
        assert client.get(self.url(inquiry), **oleg_auth).status_code == 404
        assert client.post(self.url(inquiry, "/take"), **oleg_auth).status_code == 404
        response = client.post(self.url(inquiry, "/responses"), {"text": "Hi"}, content_type="application/json",
                               **oleg_auth)
        assert response.status_code == 404
        assert reloaded(inquiry).status == "new"

    def test_it_lists_the_live_queue_of_the_token_user(self, client, auth, oleg_auth, inquiry, receive, novosibirsk):
        theirs = receive("+79231234567", branch=novosibirsk)
        assert [i["id"] for i in client.get("/api/v1/inquiries", **auth).json()] == [inquiry.pk]
        assert [i["id"] for i in client.get("/api/v1/inquiries", **oleg_auth).json()] == [theirs.pk]

    def test_it_works_with_the_session_of_the_web_interface(self, rita_client, receptionist, inquiry):
        response = rita_client.post(self.url(inquiry, "/take"))
        assert response.status_code == 200
        assert reloaded(inquiry).taken_by == receptionist


class TestRecordingACallThroughTheApi:
    URL = "/api/v1/inquiries"

    @pytest.fixture
    def oleg_auth(self, outsider) -> dict:
        _token, key = ApiToken.issue(user=outsider, name="oleg's script")
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def record(self, client, auth, **fields):
        body = {"phone": "+79161234567", "consent": True, **fields}
        return client.post(self.URL, body, content_type="application/json", **auth)

    def test_it_records_a_phone_call(self, client, auth, receptionist, moscow):
        response = self.record(client, auth, branch_id=moscow.pk, comment="Wants a cardiologist")
        assert response.status_code == 201
        inquiry = Inquiry.objects.get()
        assert (inquiry.channel, inquiry.branch, inquiry.created_by) == ("phone", moscow, receptionist)
        assert response.json()["id"] == inquiry.pk

    def test_it_files_the_call_under_the_users_own_branch_by_default(self, client, oleg_auth, moscow, novosibirsk):
        response = self.record(client, oleg_auth)
        assert response.status_code == 201
        assert Inquiry.objects.get().branch == novosibirsk

    def test_it_refuses_a_branch_the_user_does_not_work_for(self, client, oleg_auth, moscow, novosibirsk):
        response = self.record(client, oleg_auth, branch_id=moscow.pk)
        assert response.status_code == 422
        assert [e["loc"] for e in response.json()["detail"]] == [["body", "branch_id"]]
        assert not Inquiry.objects.exists()

    def test_it_reports_every_mistake_at_once(self, client, auth, moscow):
        response = self.record(client, auth, phone="123", consent=False, specialty_id=999)
        assert response.status_code == 422
        assert sorted(e["loc"][-1] for e in response.json()["detail"]) == ["consent", "phone", "specialty_id"]
        assert not Inquiry.objects.exists()

    def test_it_creates_nothing_twice_for_the_same_request_id(self, client, auth, moscow):
        first = self.record(client, auth, request_id="call-7")
        again = self.record(client, auth, request_id="call-7")
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]
        assert Inquiry.objects.count() == 1


class TestStateGuards:
    def test_a_message_on_a_closed_inquiry_changes_no_response_time(self, receptionist, inquiry):
        from clinicflow.inbox.services import inquiry_close

        inquiry_close(inquiry=inquiry, by=receptionist, reason="Spam")
        inquiry_respond(inquiry=inquiry, by=receptionist, text="Sorry, wrong number")
        inquiry.refresh_from_db()
        assert (inquiry.status, inquiry.first_response_at) == (Inquiry.Status.CLOSED, None)

    def test_an_answered_inquiry_cannot_be_closed_over_the_answer(self, rita_client, receptionist, inquiry):
        inquiry_respond(inquiry=inquiry, by=receptionist, text="Booked for Tuesday")
        response = rita_client.post(f"/inquiries/{inquiry.pk}/close/", {"reason": "duplicate"}, follow=True)
        assert "no longer waiting" in response.content.decode()
        assert reloaded(inquiry).status == Inquiry.Status.ANSWERED
