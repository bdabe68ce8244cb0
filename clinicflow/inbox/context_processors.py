from clinicflow.accounts.models import is_staff_member

from .access import inquiries_visible_to
from .models import Inquiry


def unread_inquiries(request):
    """The menu's red badge: inquiries nobody has taken yet, on every page."""
    user = getattr(request, "user", None)
    if user is None or not is_staff_member(user) or getattr(request, "htmx", False):
        return {}
    # A callable: the template calls it only if the view did not give the number already (the queue does).
    return {"nav_unread": lambda: inquiries_visible_to(user).filter(status=Inquiry.Status.NEW).count()}
