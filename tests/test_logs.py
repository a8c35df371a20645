"""Both log formatters keep the fields passed in extra=; production writes one JSON object per line."""

import json
import logging
import sys

from config.logs import JsonFormatter, TextFormatter
from tests.accounts.test_settings import PRODUCTION_ENV, run_python


def record(message: str = "survey email bounced", *, extra: dict | None = None, exc_info=None) -> logging.LogRecord:
    logger = logging.getLogger("surveys.sending")
    return logger.makeRecord(logger.name, logging.INFO, __file__, 1, message, (), exc_info, extra=extra)


def test_text_lines_keep_the_extra_fields():
    line = TextFormatter().format(record(extra={"delivery_id": 42, "outcome": "hard bounce"}))
    assert line.endswith(' INFO surveys.sending survey email bounced delivery_id=42 outcome="hard bounce"')


def test_text_lines_without_extra_fields_are_unchanged():
    line = TextFormatter().format(record("survey send run"))
    assert line.endswith(" INFO surveys.sending survey send run")


def test_json_lines_carry_time_level_logger_message_and_the_extra_fields():
    line = JsonFormatter().format(record(extra={"delivery_id": 42, "campaign_id": 7}))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry.pop("time").endswith("+00:00")
    assert entry == {
        "level": "INFO",
        "logger": "surveys.sending",
        "message": "survey email bounced",
        "delivery_id": 42,
        "campaign_id": 7,
    }


def test_json_lines_hold_a_traceback_and_values_json_cannot_write():
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    line = JsonFormatter().format(record("health check failed", extra={"check": object()}, exc_info=exc_info))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["check"].startswith("<object object")
    assert "ValueError: boom" in entry["exception"]


BOUNCE = (
    "import django, logging; django.setup();"
    "logging.getLogger('surveys.sending').warning('survey email bounced', extra={'delivery_id': 42})"
)


def last_log_line(settings_module: str) -> str:
    result = run_python(BOUNCE, DJANGO_SETTINGS_MODULE=f"config.settings.{settings_module}", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_production_logs_json_lines():
    entry = json.loads(last_log_line("production"))
    assert (entry["level"], entry["message"], entry["delivery_id"]) == ("WARNING", "survey email bounced", 42)


def test_development_logs_text_lines_with_the_extra_fields():
    assert last_log_line("local").endswith("WARNING surveys.sending survey email bounced delivery_id=42")
