from django import forms
from django.utils.translation import gettext_lazy as _

from .tables import MAX_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"),
                           help_text=_("The first line holds the column titles. Up to 10 MB and 20,000 rows."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(size)s MB.") % {"size": MAX_BYTES // 2**20})
        return upload
