"""CSV import of usage events: the same checks as the API (``health.ingest``), a row-by-row report, and all
rows stored or none. Columns: event_id, customer_external_id (or customer, Leme's id), user_id, event,
timestamp, and optionally properties (a JSON object in the cell). Importing the same file twice stores each
event once: the second time every row is "unchanged"."""

import json

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import can_import
from accounts.models import User
from health import ingest, usage
from health.models import UsageEvent
from portfolio.imports import ImportFailed, ImportReport, read_rows

REQUIRED = ["event_id", "user_id", "event", "timestamp"]
OPTIONAL = ["customer", "customer_external_id", "properties"]
KIND = "usage_events"


def _event(row: dict, problems: list[str]) -> dict:
    """A CSV row as the API's event: empty cells left out, the customer id as a number, properties parsed."""
    event = {key: value for key, value in row.items() if value != "" and key != "properties"}
    if "customer" in event:
        event["customer"] = int(event["customer"]) if event["customer"].isdigit() else event["customer"]
    if row.get("properties"):
        try:
            event["properties"] = json.loads(row["properties"])
        except ValueError:
            problems.append(_('properties: not JSON; write an object such as {"plan": "pro"}.'))
    return event


def usage_import_run(*, text: str, actor: User, commit: bool = False) -> ImportReport:
    if not can_import(actor):
        raise PermissionDenied(_("Only admins, leaders and implementation managers import CSV files."))
    report = ImportReport(kind=KIND)
    _header, rows = read_rows(text, report, required=REQUIRED, optional=OPTIONAL)
    if report.errors:
        return report
    results = {line: report.row_result(line, row.get("event_id", "")) for line, row in rows}
    report.rows = list(results.values())
    events = [_event(row, results[line].errors) for line, row in rows]
    batch = ingest.check_events(events, actor=actor, every_customer=False)
    for position, (line, _row) in enumerate(rows):
        for column, messages in batch.errors.get(position, {}).items():
            label = "" if column == "non_field_errors" else f"{column}: "
            results[line].errors.extend(f"{label}{message}" for message in messages)
    stored = set(
        UsageEvent.objects.filter(source_id__in=[e.source_id for e in batch.events]).values_list("source_id", flat=True)
    )
    seen: set[str] = set()
    for line, row in rows:
        result = results[line]
        if result.errors:
            result.action = "error"
        elif row["event_id"] in stored or row["event_id"] in seen:
            result.action = "unchanged"
        else:
            result.action = "create"
        seen.add(row["event_id"])
    if not commit:
        return report
    if not report.ok:
        raise ImportFailed(report)
    with transaction.atomic():
        usage.usage_events_store(events=batch.events)
    return report
