"""Text limits: the page forms and the API schemas take the same length for each shared field."""

import pytest

from clinicflow.core import limits
from clinicflow.funnel.api import MoveIn, TransferIn
from clinicflow.inbox.api import InquiryIn, ResponseIn, StaffInquiryIn
from clinicflow.inbox.forms import PhoneInquiryForm
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.tasks.api import TaskIn

# The phone form's field, the API field that carries the same text.
SHARED_FIELDS = [("full_name", "name"), ("phone", "phone"), ("preferred_time", "preferred_time"),
                 ("text", "comment")]


def schema_max_length(schema, name: str) -> int | None:
    for meta in schema.model_fields[name].metadata:
        if getattr(meta, "max_length", None) is not None:
            return meta.max_length
    return None


@pytest.mark.parametrize(("form_field", "api_field"), SHARED_FIELDS)
def test_the_phone_form_and_the_inquiry_api_take_the_same_length(form_field, api_field):
    form_limit = PhoneInquiryForm.base_fields[form_field].max_length
    assert form_limit is not None, f"{form_field} has no limit on the page"
    assert form_limit == schema_max_length(InquiryIn, api_field) == schema_max_length(StaffInquiryIn, api_field)


def test_each_limit_comes_from_the_one_module():
    assert PhoneInquiryForm.base_fields["text"].max_length == limits.COMMENT == 2000
    assert schema_max_length(InquiryIn, "name") == limits.NAME == 160
    assert schema_max_length(ResponseIn, "text") == limits.ANSWER
    assert schema_max_length(MoveIn, "reason") == schema_max_length(TransferIn, "reason") == limits.REASON
    assert schema_max_length(TaskIn, "title") == limits.TASK_TITLE


def test_what_the_api_accepts_fits_the_columns_it_is_stored_in():
    assert Inquiry._meta.get_field("given_name").max_length >= limits.NAME
    assert Inquiry._meta.get_field("preferred_time").max_length >= limits.PREFERRED_TIME
    assert Inquiry._meta.get_field("closed_reason").max_length >= limits.REASON
    body = Message._meta.get_field("body").max_length
    assert body is None or body >= limits.ANSWER


def test_the_phone_form_refuses_a_comment_the_api_would_refuse(moscow):
    form = PhoneInquiryForm({"phone": "+7 916 123-45-67", "branch": moscow.pk, "consent": "on",
                             "text": "a" * (limits.COMMENT + 1)})
    assert not form.is_valid()
    assert "text" in form.errors


def test_the_phone_form_takes_a_comment_at_the_limit(moscow):
    form = PhoneInquiryForm({"phone": "+7 916 123-45-67", "branch": moscow.pk, "consent": "on",
                             "text": "a" * limits.COMMENT})
    assert form.is_valid(), form.errors
