from clinicflow import gates

from .access import inquiries_at_work
from .models import Inquiry


def unread_inquiries(request):
    """The menu's red badge: inquiries nobody has taken yet, on every page."""
    user = getattr(request, "user", None)
    if user is None or not gates.reads_patients(user) or getattr(request, "htmx", False):
        return {}
    # A callable: the template calls it only if the view did not give the number already (the queue does).
    return {"nav_unread": lambda: inquiries_at_work(user).filter(status=Inquiry.Status.NEW).count()}
