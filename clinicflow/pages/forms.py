from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.clinic.models import Branch
from clinicflow.core import limits
from clinicflow.inbox.services import CONSENT_REQUIRED
from clinicflow.patients.phones import normalize_phone


class PatientCreateForm(forms.Form):
    """A person nobody found: at the desk or on the phone, so their consent is asked as in the phone form."""

    phone = forms.CharField(label=_("Phone"), max_length=limits.PHONE,
                            widget=forms.TextInput(attrs={"class": "form-control", "autofocus": True}))
    full_name = forms.CharField(label=_("Name"), max_length=limits.NAME, required=False,
                                widget=forms.TextInput(attrs={"class": "form-control"}))
    # Left out, the caller's first branch (as the phone form's service does).
    branch = forms.ModelChoiceField(Branch.objects.none(), label=_("Branch"), required=False,
                                    widget=forms.Select(attrs={"class": "form-select"}))
    consent = forms.BooleanField(label=_("The person agreed to the processing of personal data"), required=False,
                                 widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches  # only the caller's own: a card filed elsewhere vanishes

    def clean_phone(self):
        return normalize_phone(self.cleaned_data["phone"])

    def clean_branch(self):
        branch = self.cleaned_data["branch"] or self.fields["branch"].queryset.first()
        if branch is None:
            raise forms.ValidationError(_("You work for no branch."))
        return branch

    def clean_consent(self):
        if not self.cleaned_data["consent"]:
            raise forms.ValidationError(CONSENT_REQUIRED)
        return True
