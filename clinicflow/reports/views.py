"""Aggregates for marketers and managers: counts only, never a patient's name, phone or card."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from clinicflow.accounts.decorators import staff_required
from clinicflow.accounts.models import REPORT_ROLES, user_roles
from clinicflow.inbox.models import Inquiry

PERIODS = (7, 30, 90)


def inquiry_counts(since) -> dict:
    """Inquiries since a moment, by channel and by UTM source, with how many got a first answer."""
    inquiries = Inquiry.objects.filter(received_at__gte=since)
    answered = Count("id", filter=Q(first_response_at__isnull=False))
    return {
        "total": inquiries.count(),
        "by_channel": inquiries.values("channel").annotate(n=Count("id"), answered=answered).order_by("-n"),
        "by_source": inquiries.exclude(utm_source="").values("utm_source", "utm_campaign")
        .annotate(n=Count("id"), answered=answered).order_by("-n")[:50],
    }


@staff_required
def inquiries(request):
    if not (request.user.is_superuser or user_roles(request.user) & REPORT_ROLES):
        raise PermissionDenied
    days = int(request.GET["days"]) if request.GET.get("days") in {str(p) for p in PERIODS} else 30
    context = inquiry_counts(timezone.now() - timedelta(days=days))
    channels = dict(Inquiry._meta.get_field("channel").choices)
    for row in context["by_channel"]:
        row["label"] = channels.get(row["channel"], row["channel"])
    return render(request, "reports/inquiries.html",
                  {**context, "days": days, "periods": PERIODS, "section": "reports"})
