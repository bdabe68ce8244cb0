"""/queue/: the live queue, oldest first, and the htmx fragment that refreshes it."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from clinicflow.inbox.services import inquiry_close, inquiry_respond, inquiry_take

from .conftest import WEDNESDAY_10

URL = "/queue/"

pytestmark = pytest.mark.time_machine(WEDNESDAY_10 + timedelta(hours=1), tick=False)


def row_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-id="(\d+)"', response.content.decode())]


def counter(response, name: str) -> int:
    return int(re.search(rf'id="queue-{name}">(\d+)<', response.content.decode()).group(1))


@pytest.fixture
def arrived(receive):
    """Receive an inquiry some minutes after 10:00 on Wednesday."""

    def arrived(minutes: int, phone: str, **fields):
        return receive(phone, received_at=WEDNESDAY_10 + timedelta(minutes=minutes), **fields)

    return arrived


def test_it_lists_the_oldest_inquiry_first(rita_client, arrived):
    newest = arrived(30, "+79161234501", full_name="Newest")
    oldest = arrived(5, "+79161234502", full_name="Oldest")
    middle = arrived(10, "+79161234503", full_name="Middle")
    response = rita_client.get(URL)
    assert response.status_code == 200
    assert row_ids(response) == [oldest.pk, middle.pk, newest.pk]
    content = response.content.decode()
    assert content.index("Oldest") < content.index("Middle") < content.index("Newest")


def test_it_shows_only_the_users_branches(rita_client, arrived, novosibirsk):
    ours = arrived(5, "+79161234501")
    arrived(6, "+79231234567", branch=novosibirsk, full_name="Someone in Novosibirsk")
    response = rita_client.get(URL)
    assert row_ids(response) == [ours.pk]
    assert "Someone in Novosibirsk" not in response.content.decode()
    assert counter(response, "total") == 1


def test_a_clinic_admin_sees_every_branch(client, clinic_admin, arrived, novosibirsk):
    ours = arrived(5, "+79161234501")
    theirs = arrived(6, "+79231234567", branch=novosibirsk)
    client.force_login(clinic_admin)
    assert row_ids(client.get(URL)) == [ours.pk, theirs.pk]


def test_answered_and_closed_inquiries_leave_the_queue(rita_client, receptionist, arrived):
    answered = arrived(1, "+79161234501")
    closed = arrived(2, "+79161234502")
    taken = arrived(3, "+79161234503")
    new = arrived(4, "+79161234504")
    inquiry_respond(inquiry=answered, by=receptionist, text="Called back")
    inquiry_close(inquiry=closed, by=receptionist, reason="Spam")
    inquiry_take(inquiry=taken, by=receptionist)
    assert row_ids(rita_client.get(URL)) == [taken.pk, new.pk]


def test_it_counts_the_waiting_and_the_not_yet_taken(rita_client, receptionist, arrived):
    inquiry_take(inquiry=arrived(1, "+79161234501"), by=receptionist)
    arrived(2, "+79161234502")
    arrived(3, "+79161234503")
    response = rita_client.get(URL)
    assert (counter(response, "total"), counter(response, "unread")) == (3, 2)


def test_it_says_when_nobody_is_waiting(rita_client, moscow):
    response = rita_client.get(URL)
    assert "Nobody is waiting." in response.content.decode()
    assert (counter(response, "total"), counter(response, "unread")) == (0, 0)


def test_it_shows_how_long_each_inquiry_has_waited_in_working_time(rita_client, arrived):
    arrived(50, "+79161234501")  # the page is read at 11:00, ten minutes later
    assert 'data-elapsed="600"' in rita_client.get(URL).content.decode()


def test_htmx_gets_only_the_queue_fragment(rita_client, arrived):
    first = arrived(1, "+79161234501", full_name="Ivan Petrov")
    response = rita_client.get(URL, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="queue"')
    assert "<html" not in content
    assert "Live queue" not in content  # the page heading stays out of the fragment
    assert "Ivan Petrov" in content
    assert row_ids(response) == [first.pk]
    assert counter(response, "total") == 1


def test_the_full_page_wraps_the_same_fragment(rita_client, arrived):
    arrived(1, "+79161234501")
    content = rita_client.get(URL).content.decode()
    assert "<html" in content
    assert content.count('id="queue"') == 1


def test_it_sends_anonymous_visitors_to_log_in(client, moscow):
    response = client.get(URL, HTTP_HX_REQUEST="true")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_it_refuses_users_who_are_not_staff(django_user_model, moscow):
    client = Client()
    client.force_login(django_user_model.objects.create_user("patient"))
    assert client.get(URL).status_code == 403
