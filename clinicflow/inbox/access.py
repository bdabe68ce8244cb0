"""The read gate applied to inquiries: lists through `inquiries_visible_to`/`inquiries_at_work`, one through
`inquiry_for_user`."""

from clinicflow import gates

from .models import Inquiry


def inquiries_visible_to(user):
    return gates.visible(Inquiry.objects.all(), user)


def inquiries_at_work(user):
    """The user's own branches' inquiries: the live queue and its badge."""
    return gates.at_work(Inquiry.objects.all(), user)


def inquiry_for_user(user, inquiry_id, *, write: bool = False) -> Inquiry:
    queryset = Inquiry.objects.select_related("branch", "case", "specialty", "service", "patient", "contact")
    return gates.one_for_user(queryset, user, inquiry_id, write=write)
