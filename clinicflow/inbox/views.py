from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow.accounts.decorators import staff_required
from clinicflow.accounts.models import restrict_to_branches
from clinicflow.clinic.models import Branch
from clinicflow.funnel.models import IntakeQuestion
from clinicflow.patients.access import patient_for_user
from clinicflow.patients.models import Channel

from .access import inquiry_for_user
from .forms import PhoneInquiryForm
from .queue import queue_for
from .services import InquiryDraft, inquiry_close, inquiry_receive, inquiry_respond, inquiry_take


@staff_required
def queue(request):
    queue = queue_for(request.user)
    context = {"queue": queue, "nav_unread": queue.unread, "section": "queue"}
    if request.htmx:
        return render(request, "inbox/queue.html#queue", context)
    return render(request, "inbox/queue.html", context)


@staff_required
def inquiry_new(request):
    # Only the caller's own branches: an inquiry filed elsewhere would vanish from the receptionist's sight.
    branches = restrict_to_branches(Branch.objects.all(), request.user, branch_field="pk")
    form = PhoneInquiryForm(request.POST or None, initial={"branch": request.GET.get("branch") or branches.first()})
    form.fields["branch"].queryset = branches
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draft = InquiryDraft(
            channel=Channel.PHONE, phone=data["phone"], full_name=data["full_name"], text=data["text"],
            consent=data["consent"], branch_id=data["branch"].pk, preferred_time=data["preferred_time"],
            specialty_id=data["specialty"] and data["specialty"].pk, service_id=data["service"] and data["service"].pk)
        try:
            inquiry, _created = inquiry_receive(draft=draft, created_by=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            inquiry_take(inquiry=inquiry, by=request.user)
            return redirect("inbox:inquiry", inquiry.pk)
    return render(request, "inbox/inquiry_new.html", {"form": form, "section": "queue"})


@staff_required
def inquiry_detail(request, inquiry_id):
    inquiry = inquiry_for_user(request.user, inquiry_id)
    patient = patient_for_user(request.user, inquiry.patient_id)
    return render(request, "inbox/inquiry.html", {
        "inquiry": inquiry, "patient": patient, "case": inquiry.case, "section": "queue",
        "conversation": inquiry.messages.select_related("author"),
        "questions": IntakeQuestion.objects.filter(active=True),
    })


@require_POST
@staff_required
def inquiry_take_view(request, inquiry_id):
    inquiry_take(inquiry=inquiry_for_user(request.user, inquiry_id), by=request.user)
    return redirect("inbox:inquiry", inquiry_id)


@require_POST
@staff_required
def inquiry_respond_view(request, inquiry_id):
    inquiry = inquiry_for_user(request.user, inquiry_id)
    try:
        inquiry_respond(inquiry=inquiry, by=request.user, text=request.POST.get("text", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("inbox:inquiry", inquiry_id)


@require_POST
@staff_required
def inquiry_close_view(request, inquiry_id):
    inquiry = inquiry_for_user(request.user, inquiry_id)
    try:
        inquiry_close(inquiry=inquiry, by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("inbox:inquiry", inquiry_id)
    messages.success(request, _("Inquiry closed."))
    return redirect("inbox:queue")
