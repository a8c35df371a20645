"""CSV files in and out: the one place that decides how an uploaded file becomes text and how a cell is
written so that a spreadsheet reads it as text.

Reading
    ``decode_csv`` takes the uploaded bytes: UTF-8 (with or without the byte-order mark Excel writes), else
    Windows-1252, which is what Excel in Brazil saves "CSV" as (its “ ” – € are bytes that Latin-1 would turn
    into invisible control characters). A NUL byte, or bytes that are neither, mean the file is not a text
    file: ``NotText``.

Writing
    ``csv_response`` streams rows as a CSV download, every cell through ``spreadsheet_safe``. A spreadsheet
    runs a cell that starts with = + - @ (or a tab or carriage return before one) as a formula, and it splits
    cells at its own separator, not the file's: Excel in Brazil splits at ";", so the text ``x;=1+1`` in one
    comma-separated cell becomes a cell ``=1+1`` there. So a quote mark (which the spreadsheet shows as text
    and hides at a cell's start) goes before any such character at the start of the text and after every
    separator a spreadsheet might split at (, ; tab and line breaks), spaces and quotes in between included.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _

ENCODINGS = ("utf-8-sig", "cp1252")
# Where a spreadsheet may start a cell, then what may come before the formula's first character.
_FORMULA = re.compile(r"""(^|[,;\t\r\n])([ \u00a0"']*)(?=[=+\-@\uff1d\uff0b\uff0d\uff20])""")


class NotText(ValueError):
    """The bytes are not a text file Leme can read."""


def decode_csv(raw: bytes) -> str:
    if b"\x00" in raw:
        # UTF-16 (Excel's "Unicode text") and binary files; PostgreSQL could not store it either.
        raise NotText("NUL byte")
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise NotText("neither UTF-8 nor Windows-1252")


def spreadsheet_safe(value: Any) -> Any:
    """A cell's value that no spreadsheet reads as a formula; numbers and other values unchanged."""
    if not isinstance(value, str):
        return value
    return _FORMULA.sub(lambda match: f"{match[1]}'{match[2]}", value)


class _Echo:
    """A file that hands back what is written to it, so csv.writer makes one line at a time."""

    def write(self, value: str) -> str:
        return value


def csv_rows(rows: Iterable[Iterable[Any]]) -> Iterable[str]:
    writer = csv.writer(_Echo())
    return (writer.writerow([spreadsheet_safe(v) for v in row]) for row in rows)


def csv_response(rows: Iterable[Iterable[Any]], filename: str) -> StreamingHttpResponse:
    """A CSV download, streamed as the rows come (header first), every cell made safe for spreadsheets."""
    response = StreamingHttpResponse(csv_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CsvUploadForm(forms.Form):
    """A form with one CSV ``file``: too large or not text is an error beside the field, in the person's language;
    ``cleaned_data["file"]`` is the decoded text. Subclasses set ``max_megabytes`` and may add fields."""

    max_megabytes = 2
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, separated by commas or semicolons, at most 2 MB."))

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > self.max_megabytes * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(megabytes)s MB: split it.") % {"megabytes": self.max_megabytes}
            )
        try:
            return decode_csv(upload.read())
        except NotText as exc:
            raise forms.ValidationError(
                _("Could not read the file as text: save it as CSV (UTF-8 or Windows) and upload it again.")
            ) from exc
