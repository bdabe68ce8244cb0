from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch, Service, Specialty
from clinicflow.core import limits
from clinicflow.patients.phones import normalize_phone

from .services import CONSENT_REQUIRED


class PhoneInquiryForm(forms.Form):
    """A call taken by the front desk, typed in while on the phone."""

    phone = forms.CharField(label=_("Phone"), max_length=limits.PHONE,
                            widget=forms.TextInput(attrs={"autofocus": True}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Bootstrap's classes are set here, not by an inline script (the page's CSP allows none).
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            else:
                widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")

    def clean_phone(self):
        # The service checks it again; checking here too shows every mistake after one submit.
        return normalize_phone(self.cleaned_data["phone"])

    def clean_consent(self):
        if not self.cleaned_data["consent"]:
            raise forms.ValidationError(CONSENT_REQUIRED)
        return True

    full_name = forms.CharField(label=_("Name"), max_length=limits.NAME, required=False)
    branch = forms.ModelChoiceField(Branch.objects.all(), label=_("Branch"))
    specialty = forms.ModelChoiceField(Specialty.objects.all(), label=_("Specialty"), required=False)
    service = forms.ModelChoiceField(Service.objects.filter(active=True), label=_("Service"), required=False)
    preferred_time = forms.CharField(label=_("Preferred time"), max_length=limits.PREFERRED_TIME, required=False)
    text = forms.CharField(label=_("What the caller wants"), max_length=limits.COMMENT,
                           widget=forms.Textarea(attrs={"rows": 3}), required=False)
    consent = forms.BooleanField(label=_("The caller agreed to the processing of personal data"), required=False)


class WebsiteInquiryForm(forms.Form):
    """The website widget's form for a browser without JavaScript (served by the CRM at /widget/form/)."""

    full_name = forms.CharField(label=_("Your name"), max_length=limits.NAME, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=limits.PHONE)
    branch = forms.ModelChoiceField(Branch.objects.order_by("name"), label=_("Branch"), required=False)
    text = forms.CharField(label=_("Comment"), max_length=limits.COMMENT, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    consent = forms.BooleanField(required=False)
    marketing_consent = forms.BooleanField(label=_("Send me news and offers of the clinic"), required=False)
    # Invisible to people (the page hides it), irresistible to form-filling bots.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif name != "website":
                field.widget.attrs.setdefault("class", "form-select" if isinstance(field.widget, forms.Select)
                                              else "form-control")

    def clean_consent(self):
        if not self.cleaned_data["consent"]:
            raise forms.ValidationError(CONSENT_REQUIRED)
        return True
