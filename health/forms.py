from django import forms
from django.utils.translation import gettext_lazy as _

from core.csvfiles import NotText, decode_csv


class UsageImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, separated by commas or semicolons, at most 2 MB."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 2 MB: split it."))
        try:
            return decode_csv(upload.read())
        except NotText as exc:
            raise forms.ValidationError(
                _("Could not read the file as text: save it as CSV (UTF-8 or Windows) and upload it again.")
            ) from exc
