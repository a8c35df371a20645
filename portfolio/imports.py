"""CSV import of customers, contacts and subscriptions.

``import_run(kind=..., text=..., actor=..., commit=False)`` checks every row and reports, row by row, what
would happen (create, update, unchanged) or why it cannot; nothing is written. With ``commit=True`` it
applies all rows inside one transaction through the services, and writes nothing unless every row passes.
Rows are matched by ``external_id``, so importing the same file twice changes nothing.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from accounts.access import can_create_customers, can_import
from accounts.models import User
from accounts.selectors import implementation_managers, owner_candidates
from core import bounds
from portfolio import services
from portfolio.models import (
    BillingPeriod,
    Contact,
    ContactRole,
    Customer,
    ImportJob,
    ImportJobStatus,
    PlanTier,
    Segment,
    ServiceModel,
    Subscription,
    SubscriptionStatus,
)
from portfolio.money import to_cents
from portfolio.selectors import customers_changeable_by
from portfolio.validators import cnpj_digits, cnpj_is_valid

MAX_ROWS = 5000

COLUMNS = {
    "customers": (
        ["external_id", "name"],
        ["cnpj", "segment", "plan_tier", "service_model", "owner_email", "ism_email", "start_date", "renewal_date"],
    ),
    "contacts": (["external_id", "customer_external_id", "name"], ["email", "phone", "role", "language"]),
    "subscriptions": (
        ["external_id", "customer_external_id", "product", "amount", "start_date"],
        ["plan", "billing_period", "end_date", "status"],
    ),
}


class ImportFailed(Exception):
    def __init__(self, report: "ImportReport"):
        super().__init__("import has errors")
        self.report = report


@dataclass
class RowResult:
    line: int
    key: str
    action: str = ""  # create, update, unchanged, error
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    kind: str
    rows: list[RowResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # What reading the file found wrong with a row, by its first line (``read_rows``); the rows' checks
    # start from these.
    row_problems: dict[int, list[str]] = field(default_factory=dict)

    def row_result(self, line: int, key: str) -> RowResult:
        return RowResult(line=line, key=key, errors=list(self.row_problems.get(line, [])))

    @property
    def ok(self) -> bool:
        return not self.errors and all(not r.errors for r in self.rows)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def error_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors]


def _date(value: str, errors: list[str], label: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    parsed = None
    if "/" in value:
        parts = value.split("/")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                parsed = date(int(parts[2]), int(parts[1]), int(parts[0]))
            except ValueError:
                parsed = None
    else:
        try:
            parsed = parse_date(value)
        except ValueError:
            parsed = None
    if parsed is None:
        errors.append(
            _('%(col)s: "%(value)s" is not a date (use 31/12/2026 or 2026-12-31).') % {"col": label, "value": value}
        )
    elif not bounds.date_in_range(parsed):
        errors.append(f"{label}: {bounds.out_of_range_message()}")
        return None
    return parsed


def _choice(value: str, choices, errors: list[str], label: str, default: str) -> str:
    value = (value or "").strip().lower()
    if not value:
        return default
    valid = {c.value for c in choices}
    if value not in valid:
        errors.append(
            _('%(col)s: "%(value)s" is not one of %(valid)s.')
            % {"col": label, "value": value, "valid": ", ".join(sorted(valid))}
        )
        return default
    return value


def _money(value: str, errors: list[str]) -> int | None:
    """Reais as typed in Brazil (1.234,56) or with a dot (1234.56), into integer cents."""
    text = (value or "").strip().replace("R$", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors.append(_('amount: "%(value)s" is not a number of reais.') % {"value": value})
        return None
    if not amount.is_finite():
        errors.append(_('amount: "%(value)s" is not a number of reais.') % {"value": value})
        return None
    if amount < 0:
        errors.append(_("amount: cannot be negative."))
        return None
    if amount * 100 > bounds.MAX_CENTS:
        errors.append(_("amount: at most %(max)s reais.") % {"max": f"{bounds.MAX_CENTS // 100:_}".replace("_", ".")})
        return None
    return to_cents(amount)


def _person(email: str, pool, errors: list[str], label: str) -> User | None:
    email = (email or "").strip().lower()
    if not email:
        return None
    person = pool.get(email)
    if person is None:
        errors.append(
            _("%(col)s: nobody with the email %(email)s can take this role.") % {"col": label, "email": email}
        )
    return person


def read_rows(
    text: str, report: ImportReport, *, required: list[str], optional: list[str]
) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header (lower-case) and the rows of a CSV (commas or semicolons) as (first line, {column: value});
    a missing or unknown column, no rows, too many, or a file the CSV reader gives up on go to
    ``report.errors``. A row that runs over several lines (a quotation mark never closed swallows the lines
    after it) or has more cells than the header goes to ``report.row_problems``: no column Leme imports
    holds a line break, and a cell without a column would be dropped unseen."""
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error:
        report.errors.append(_("The first line could not be read as CSV: check its quotation marks."))
        return [], []
    missing = [c for c in required if c not in header]
    if missing:
        report.errors.append(_("The file lacks the columns: %(cols)s.") % {"cols": ", ".join(missing)})
        return header, []
    unknown = [h for h in header if h and h not in required + optional]
    if unknown:
        report.errors.append(_("Unknown columns: %(cols)s.") % {"cols": ", ".join(unknown)})
        return header, []
    reader.fieldnames = header
    rows: list[tuple[int, dict]] = []
    last_line = reader.line_num
    try:
        for row in reader:
            line, last_line = last_line + 1, reader.line_num
            extra = [cell for cell in row.pop(None, None) or [] if cell.strip()]
            values = {k: (v or "").strip() for k, v in row.items() if k}
            problems = []
            if last_line > line and any("\n" in v or "\r" in v for v in values.values()):
                problems.append(
                    _(
                        "Lines %(first)s to %(last)s were read as one row: a quotation mark opens a cell and is never "
                        "closed. Close it, or remove it."
                    )
                    % {"first": line, "last": last_line}
                )
            if extra:
                problems.append(
                    _("%(count)s cells more than the header has columns: %(cells)s.")
                    % {"count": len(extra), "cells": "; ".join(extra)[:200]}
                )
            if problems:
                report.row_problems[line] = problems
            rows.append((line, values))
            if len(rows) > MAX_ROWS:
                break
    except csv.Error:
        report.errors.append(
            _("Line %(line)s could not be read as CSV: a quotation mark is probably never closed.")
            % {"line": last_line + 1}
        )
        return header, []
    if not rows:
        report.errors.append(_("The file has no rows."))
    if len(rows) > MAX_ROWS:
        report.errors.append(_("At most %(max)s rows per file.") % {"max": MAX_ROWS})
    return header, rows


def check_lengths(
    model: type[models.Model], columns: list[str], rows: list[tuple[int, dict]], results: dict[int, "RowResult"]
) -> None:
    """Each of ``columns`` no longer than its model field takes, as the commit would find (after a long wait).
    Only columns stored as typed: a CNPJ is stored as its digits, choices are checked against their values."""
    limits = {name: model._meta.get_field(name).max_length for name in columns}
    for line, row in rows:
        for column, limit in limits.items():
            value = row.get(column, "")
            if len(value) > limit:
                results[line].errors.append(
                    _("%(col)s: at most %(max)s characters (this one has %(count)s).")
                    % {"col": column, "max": limit, "count": len(value)}
                )


def _check_duplicates(rows: list[tuple[int, dict]], results: dict[int, RowResult]) -> None:
    seen: dict[str, int] = {}
    for line, row in rows:
        key = row.get("external_id", "")
        if key in seen:
            results[line].errors.append(_("external_id %(id)s repeats line %(line)s.") % {"id": key, "line": seen[key]})
        seen.setdefault(key, line)


def _customers(rows, actor, results, commit, tick=None):
    owners = {u.email: u for u in owner_candidates(actor)}
    isms = {u.email: u for u in implementation_managers()}
    existing = {c.external_id: c for c in Customer.objects.filter(external_id__in=[r["external_id"] for _, r in rows])}
    changeable = set(
        customers_changeable_by(actor).filter(pk__in=[c.pk for c in existing.values()]).values_list("pk", flat=True)
    )
    for line, row in rows:
        if tick:
            tick()
        result = results[line]
        errors = result.errors
        data = {
            "name": row["name"],
            "cnpj": cnpj_digits(row.get("cnpj", "")),
            "segment": _choice(row.get("segment"), Segment, errors, "segment", Segment.SMB),
            "plan_tier": _choice(row.get("plan_tier"), PlanTier, errors, "plan_tier", PlanTier.PRO),
            "service_model": _choice(
                row.get("service_model"), ServiceModel, errors, "service_model", ServiceModel.LOW_TOUCH
            ),
            "renewal_date": _date(row.get("renewal_date"), errors, "renewal_date"),
        }
        owner = _person(row.get("owner_email"), owners, errors, "owner_email")
        ism = _person(row.get("ism_email"), isms, errors, "ism_email")
        start = _date(row.get("start_date"), errors, "start_date")
        if not data["name"]:
            errors.append(_("name: required."))
        if data["cnpj"] and not cnpj_is_valid(data["cnpj"]):
            errors.append(_("cnpj: %(value)s is not a valid CNPJ.") % {"value": row.get("cnpj")})
        customer = existing.get(row["external_id"])
        if customer is not None and customer.pk not in changeable:
            errors.append(_("external_id %(id)s belongs to a customer you cannot change.") % {"id": row["external_id"]})
        if customer is None and not can_create_customers(actor):
            errors.append(
                _("external_id %(id)s is a new customer: only admins, leaders and implementation managers create them.")
                % {"id": row["external_id"]}
            )
        if errors:
            result.action = "error"
            continue
        if customer is None:
            result.action = "create"
            if commit:
                services.customer_create(
                    actor=actor,
                    external_id=row["external_id"],
                    owner=owner,
                    implementation_manager=ism or actor,
                    start_date=start,
                    **data,
                )
            continue
        changes = {k: v for k, v in data.items() if getattr(customer, k) != v}
        result.action = "update" if changes else "unchanged"
        if commit and changes:
            services.customer_update(customer=customer, actor=actor, **changes)
        if owner is not None and customer.owner_id != owner.pk:
            result.action = "update"
            if commit:
                services.customers_reassign(customers=[customer], to_owner=owner, actor=actor)


def _customers_for(rows, actor, results) -> dict[str, Customer]:
    ids = {r["customer_external_id"] for _, r in rows}
    found = {c.external_id: c for c in customers_changeable_by(actor).filter(external_id__in=ids)}
    for line, row in rows:
        if row["customer_external_id"] not in found:
            results[line].errors.append(
                _("customer_external_id %(id)s: no customer of yours has this id.")
                % {"id": row["customer_external_id"]}
            )
    return found


def _contacts(rows, actor, results, commit, tick=None):
    customers = _customers_for(rows, actor, results)
    existing = {c.external_id: c for c in Contact.objects.filter(external_id__in=[r["external_id"] for _, r in rows])}
    for line, row in rows:
        if tick:
            tick()
        result = results[line]
        errors = result.errors
        data = {
            "name": row["name"],
            "email": row.get("email", "").lower(),
            "phone": row.get("phone", ""),
            "role": _choice(row.get("role"), ContactRole, errors, "role", ContactRole.USER),
            "language": "en" if row.get("language", "").lower().startswith("en") else "pt-br",
        }
        if not data["name"]:
            errors.append(_("name: required."))
        if data["email"]:
            try:
                validate_email(data["email"])
            except ValidationError:
                errors.append(_("email: %(value)s is not an email address.") % {"value": data["email"]})
        customer = customers.get(row["customer_external_id"])
        contact = existing.get(row["external_id"])
        if contact is not None and customer is not None and contact.customer_id != customer.pk:
            errors.append(_("external_id %(id)s is a contact of another customer.") % {"id": row["external_id"]})
        if errors:
            result.action = "error"
            continue
        if contact is None:
            result.action = "create"
            if commit:
                services.contact_create(customer=customer, actor=actor, external_id=row["external_id"], **data)
            continue
        changes = {k: v for k, v in data.items() if getattr(contact, k) != v}
        result.action = "update" if changes else "unchanged"
        if commit and changes:
            services.contact_update(contact=contact, actor=actor, **changes)


def _subscriptions(rows, actor, results, commit, tick=None):
    customers = _customers_for(rows, actor, results)
    existing = {
        s.external_id: s for s in Subscription.objects.filter(external_id__in=[r["external_id"] for _, r in rows])
    }
    today = timezone.localdate()
    for line, row in rows:
        if tick:
            tick()
        result = results[line]
        errors = result.errors
        amount = _money(row["amount"], errors)
        start = _date(row["start_date"], errors, "start_date")
        end = _date(row.get("end_date"), errors, "end_date")
        period = _choice(row.get("billing_period"), BillingPeriod, errors, "billing_period", BillingPeriod.MONTHLY)
        status = _choice(row.get("status"), SubscriptionStatus, errors, "status", SubscriptionStatus.ACTIVE)
        if start is None and not any("start_date" in e for e in errors):
            errors.append(_("start_date: required."))
        if start and end and end < start:
            errors.append(_("end_date: before start_date."))
        customer = customers.get(row["customer_external_id"])
        subscription = existing.get(row["external_id"])
        if subscription is not None and customer is not None and subscription.customer_id != customer.pk:
            errors.append(_("external_id %(id)s is a subscription of another customer.") % {"id": row["external_id"]})
        if errors:
            result.action = "error"
            continue
        if subscription is None:
            result.action = "create"
            if commit:
                services.subscription_create(
                    customer=customer,
                    product=row["product"],
                    plan=row.get("plan", ""),
                    amount_cents=amount,
                    billing_period=period,
                    start_date=start,
                    end_date=end,
                    actor=actor,
                    status=SubscriptionStatus.CANCELLED if end and end <= today else status,
                    external_id=row["external_id"],
                )
            continue
        ends = end is not None and subscription.end_date != end
        changes = (
            amount != subscription.amount_cents
            or period != subscription.billing_period
            or row.get("plan", "") != subscription.plan
        )
        result.action = "update" if (ends or changes) else "unchanged"
        if not commit:
            continue
        if changes and subscription.is_current:
            subscription = services.subscription_change(
                subscription=subscription,
                actor=actor,
                effective_date=max(today, subscription.start_date),
                amount_cents=amount,
                billing_period=period,
                plan=row.get("plan", ""),
            )
        if ends and subscription.is_current:
            services.subscription_cancel(subscription=subscription, actor=actor, end_date=end)


HANDLERS = {"customers": _customers, "contacts": _contacts, "subscriptions": _subscriptions}
# The columns stored as typed, whose length the preview checks against the model's fields.
STORED_AS_TYPED = {
    "customers": (Customer, ["external_id", "name"]),
    "contacts": (Contact, ["external_id", "name", "email", "phone"]),
    "subscriptions": (Subscription, ["external_id", "product", "plan"]),
}


def import_run(
    *, kind: str, text: str, actor: User, commit: bool = False, tick: Callable[[], None] | None = None
) -> ImportReport:
    """Check (and with ``commit``, write) every row; ``tick()`` is called as each row is checked and as each is
    written, so a job can show how far it got (twice the rows in all)."""
    if kind not in HANDLERS:
        raise ValueError(kind)
    if not can_import(actor):
        raise PermissionDenied(_("Only admins, leaders and implementation managers import CSV files."))
    report = ImportReport(kind=kind)
    required, optional = COLUMNS[kind]
    _header, rows = read_rows(text, report, required=required, optional=optional)
    if report.errors:
        return report
    results = {line: report.row_result(line, row.get("external_id", "")) for line, row in rows}
    report.rows = list(results.values())
    model, columns = STORED_AS_TYPED[kind]
    check_lengths(model, columns, rows, results)
    _check_duplicates(rows, results)
    for line, row in rows:
        if not row.get("external_id"):
            results[line].errors.append(_("external_id: required, so a second import updates instead of duplicating."))
    if not commit:
        HANDLERS[kind](rows, actor, results, commit=False)
        return report
    try:
        with transaction.atomic():
            HANDLERS[kind](rows, actor, results, commit=False, tick=tick)
            if not report.ok:
                raise ImportFailed(report)
            HANDLERS[kind](rows, actor, results, commit=True, tick=tick)
    except ValidationError as exc:
        report.errors.extend(exc.messages)
        raise ImportFailed(report) from exc
    return report


# --- Large imports, run by a job -----------------------------------------------------------------------------
# A job is queued when the person confirms (import_jobs.import_job_start); the worker marks it running, then
# writes every row, its result and its status in one transaction. A worker that dies on the way (killed,
# restarted, out of memory, past its time limit) leaves that transaction rolled back — nothing written — and
# the job queued or running: the beat's ``import_jobs_recover`` queues it again (running it again is safe:
# nothing of the dead run remains) up to LEME_IMPORT_JOB_ATTEMPTS times in all, then fails it with a page
# that says so, instead of a page that waits forever.

# A confirmed import of more rows than this is written by a background job: its page shows the progress.
JOB_ROWS = 500
_PROGRESS_EVERY = 50


def progress_key(job_id: int) -> str:
    return f"import-job:{job_id}:done"


def heartbeat_key(job_id: int) -> str:
    """When the job's worker last told its progress (a POSIX timestamp): a running job that did so recently is
    alive, however long it has been running."""
    return f"import-job:{job_id}:at"


def import_job_progress(job: ImportJob) -> int:
    """How far a job got, in percent (what its worker last told the cache; 100 once finished)."""
    if job.finished:
        return 100
    if job.status == ImportJobStatus.QUEUED or not job.rows:
        return 0
    done = cache.get(progress_key(job.pk)) or 0
    return min(99, done * 100 // (2 * job.rows))


def report_of(job: ImportJob) -> ImportReport | None:
    """The rows to fix of a failed job, as the page's report shows them (none for a job that stopped: its page
    says so instead)."""
    if job.status != ImportJobStatus.FAILED or job.result.get("stopped"):
        return None
    result = job.result
    return ImportReport(
        kind=job.kind,
        rows=[RowResult(line=r["line"], key=r["key"], action="error", errors=r["errors"]) for r in result["rows"]],
        errors=result.get("errors", []),
    )


def import_job_run(*, job_id: int) -> None:
    """Write a queued import job's rows (all or none), telling the cache how far it got, and keep its result.
    Safe twice: only a queued job starts, and starting it is committed before the rows are written. The rows
    and the result commit together, and only while this run is the job's current attempt: a run the recovery
    gave up on (queued again, or failed) writes nothing."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("actor").filter(pk=job_id).first()
        if job is None or job.status != ImportJobStatus.QUEUED:
            return
        job.status = ImportJobStatus.RUNNING
        job.status_at = timezone.now()
        job.save(update_fields=["status", "status_at"])
    key, alive, done = progress_key(job.pk), heartbeat_key(job.pk), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if done % _PROGRESS_EVERY == 0:
            cache.set_many({key: done, alive: timezone.now().timestamp()}, timeout=86_400)

    with transaction.atomic():
        try:
            report = import_run(kind=job.kind, text=job.text, actor=job.actor, commit=True, tick=tick)
        except ImportFailed as exc:
            status = ImportJobStatus.FAILED
            result = {
                "errors": exc.report.errors,
                "rows": [{"line": r.line, "key": r.key, "errors": r.errors} for r in exc.report.error_rows],
            }
        else:
            status = ImportJobStatus.DONE
            result = {"counts": {action: report.count(action) for action in ("create", "update", "unchanged")}}
        current = ImportJob.objects.filter(pk=job.pk, status=ImportJobStatus.RUNNING, attempts=job.attempts)
        if not current.update(status=status, result=result, finished_at=timezone.now()):
            transaction.set_rollback(True)
    cache.delete_many([key, alive])


def import_jobs_recover(*, now: datetime | None = None) -> list[int]:
    """Jobs queued or running for longer than LEME_IMPORT_JOB_STALE_MINUTES (since they were queued or
    started, or since a running job's worker last told its progress): their worker died, and what it was writing
    was rolled back. Each is queued again while it has attempts left (the ids returned, for the caller to queue
    once this commits), else failed as stopped. A fixed number of queries; safe twice and concurrently (the jobs
    are locked, a locked one is left for the next run)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.LEME_IMPORT_JOB_STALE_MINUTES)
    with transaction.atomic():
        stale = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(status__in=(ImportJobStatus.QUEUED, ImportJobStatus.RUNNING), status_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", "status", "attempts")
        )
        alive = cache.get_many([heartbeat_key(pk) for pk, status, _n in stale if status == ImportJobStatus.RUNNING])
        again, stopped = [], []
        for pk, _status, attempts in stale:
            if alive.get(heartbeat_key(pk), 0) >= cutoff.timestamp():
                continue
            (again if attempts < settings.LEME_IMPORT_JOB_ATTEMPTS else stopped).append(pk)
        if again:
            ImportJob.objects.filter(pk__in=again).update(
                status=ImportJobStatus.QUEUED, attempts=F("attempts") + 1, status_at=now
            )
        if stopped:
            ImportJob.objects.filter(pk__in=stopped).update(
                status=ImportJobStatus.FAILED, result={"stopped": True}, finished_at=now
            )
    cache.delete_many([k for pk in again + stopped for k in (progress_key(pk), heartbeat_key(pk))])
    return again
