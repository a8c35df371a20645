"""Small helpers for the sentences Leme writes."""

import re

_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.$")


def end_sentence(text: str) -> str:
    """Drop the sentence's full stop when the name before it already ends in one: "contato de Atlas S.A.." reads
    "contato de Atlas S.A.". An ellipsis ("...") is left alone."""
    return _DOUBLE_STOP.sub(".", text)
