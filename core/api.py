"""What every API endpoint shares below the apps: how a JSON body is read."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, except that a body nested deeper than Python's recursion limit (a few thousand
    brackets) is a 400 like any other malformed JSON: the stdlib raises RecursionError, which DRF let through
    as a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("JSON parse error - the body is nested too deeply.")) from exc
