"""The front desk's pages refuse text the API would refuse, in words, instead of cutting it silently."""

import pytest

from clinicflow.core import limits
from clinicflow.inbox.models import Inquiry, Message

from .conftest import WEDNESDAY_10


@pytest.fixture
def inquiry(receive, time_machine):
    time_machine.move_to(WEDNESDAY_10, tick=False)
    return receive(full_name="Ivan Petrov")


def test_an_answer_over_the_limit_is_refused_and_nothing_is_recorded(rita_client, inquiry):
    response = rita_client.post(f"/inquiries/{inquiry.pk}/respond/", {"text": "a" * (limits.ANSWER + 1)},
                                follow=True)
    assert f"At most {limits.ANSWER} characters" in response.content.decode()
    assert not Message.objects.filter(inquiry=inquiry, direction=Message.Direction.OUTBOUND).exists()
    assert Inquiry.objects.get(pk=inquiry.pk).first_response_at is None


def test_an_answer_at_the_limit_is_recorded_whole(rita_client, inquiry):
    rita_client.post(f"/inquiries/{inquiry.pk}/respond/", {"text": "a" * limits.ANSWER})
    assert Message.objects.get(inquiry=inquiry, direction=Message.Direction.OUTBOUND).body == "a" * limits.ANSWER


def test_a_close_reason_over_the_limit_is_refused_not_cut(rita_client, inquiry):
    response = rita_client.post(f"/inquiries/{inquiry.pk}/close/", {"reason": "r" * (limits.REASON + 1)}, follow=True)
    assert f"At most {limits.REASON} characters" in response.content.decode()
    assert Inquiry.objects.get(pk=inquiry.pk).status != Inquiry.Status.CLOSED


def test_the_phone_form_refuses_a_20000_character_note(rita_client, moscow):
    response = rita_client.post("/inquiries/new/", {"phone": "+7 916 123-45-67", "branch": moscow.pk,
                                                    "consent": "on", "text": "a" * 20_000})
    assert response.status_code == 200
    assert not Inquiry.objects.exists()
    assert "text" in response.context["form"].errors
