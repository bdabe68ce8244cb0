from django.http import Http404

from clinicflow.accounts.models import restrict_to_branches

from .models import Inquiry


def inquiries_visible_to(user):
    return restrict_to_branches(Inquiry.objects.all(), user)


def inquiry_for_user(user, inquiry_id) -> Inquiry:
    try:
        return inquiries_visible_to(user).select_related("branch", "case", "specialty", "service").get(pk=inquiry_id)
    except (Inquiry.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
