"""CSV files in and out: the one place that decides how an uploaded file becomes text and how a cell is
written so that a spreadsheet reads it as text.

Reading
    ``decode_csv`` takes the uploaded bytes: UTF-8 (with or without the byte-order mark Excel writes), else
    Windows-1252, which is what Excel in Brazil saves "CSV" as (its “ ” – € are bytes that Latin-1 would turn
    into invisible control characters). A NUL byte, or bytes that are neither, mean the file is not a text
    file: ``NotText``.
"""

ENCODINGS = ("utf-8-sig", "cp1252")


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
