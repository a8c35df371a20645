"""Metrics writes: marking rollups stale when the ledger changes, and refreshing them; the spend and gross margin
the unit economics use."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import can_enter_spend, can_set_gross_margin
from accounts.models import User
from core import bounds, clock
from metrics import cohorts, inputs, operations_tallies, rollups
from metrics.models import MetricsSettings, MonthlySpend, StaleMonth
from portfolio.imports import ImportFailed, ImportReport, RowResult, read_rows
from portfolio.ledger import month_start


def rollups_mark_stale(*, day: date) -> None:
    """The ledger changed from ``day``'s month on (a day in the future changes nothing yet: the current
    month's rollups are rebuilt when that month's figures move)."""
    month = min(month_start(day), month_start(clock.today()))
    StaleMonth.objects.get_or_create(month=month)


@transaction.atomic
def rollups_refresh() -> int:
    """Rebuild the periods ending in or after the earliest stale month, then forget the stale months. The
    stale rows stay locked until the rebuild commits, so a second refresh waits and then finds nothing."""
    stale = list(StaleMonth.objects.select_for_update().order_by("month"))
    if not stale:
        return 0
    periods = rollups.periods_to_build(stale[0].month)
    built = rollups.build(periods)
    rollups.forget_custom(since=stale[0].month, keep=periods)  # custom ranges the change touched: built when asked
    cohorts.build(last=month_start(clock.today()), since=stale[0].month)
    StaleMonth.objects.filter(pk__in=[s.pk for s in stale]).delete()
    return built


def rollups_rebuild_all() -> int:
    """Rebuild every period (nightly, and the command)."""
    return rollups.rebuild_all()


def operations_tallies_rebuild() -> dict:
    """Count the CS operations' closed months again (the beat, the command, the demo)."""
    return operations_tallies.rebuild()


# --- Unit economics: the spend and the gross margin -------------------------------------------------------

REPORTING_CURRENCY = "BRL"  # one reporting currency per workspace (DOMAIN.md); every amount Leme stores is in it


def _ensure(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def spend_record(*, month: date, amount_cents: int, actor: User, currency: str = "", notes: str = "") -> MonthlySpend:
    """Record the sales and marketing spend of ``month`` (the month's first day), replacing what was entered for
    it before. Admins and leaders only; the amount in the workspace's reporting currency."""
    _ensure(can_enter_spend(actor), _("Only admins and leaders enter the sales and marketing spend."))
    errors: dict[str, list[str]] = {}
    currency = (currency or REPORTING_CURRENCY).strip().upper()
    if currency != REPORTING_CURRENCY:
        errors["currency"] = [
            _("Enter the spend in the workspace's reporting currency, %(currency)s.") % {"currency": REPORTING_CURRENCY}
        ]
    if month.day != 1 or not bounds.date_in_range(month):
        errors["month"] = [bounds.out_of_range_message()]
    if amount_cents < 0 or amount_cents > bounds.MAX_CENTS:
        errors["amount"] = [_("Enter an amount from zero up to R$ 10 billion.")]
    if len(notes) > NOTES_MAX:
        errors["notes"] = [_("At most %(max)s characters.") % {"max": NOTES_MAX}]
    if errors:
        raise ValidationError(errors)
    spend, _created = MonthlySpend.objects.update_or_create(
        month=month,
        defaults={
            "amount_cents": amount_cents,
            "currency": currency,
            "notes": notes,
            "entered_by": actor,
            "entered_at": clock.now(),
        },
    )
    return spend


NOTES_MAX = 2000


def gross_margin_set(*, percent: Decimal, actor: User) -> MetricsSettings:
    """Set the workspace's gross margin (above 0 up to 100 %), which LTV and CAC payback use. Admins only."""
    _ensure(can_set_gross_margin(actor), _("Only admins set the gross margin."))
    if not percent.is_finite() or not Decimal(0) < percent <= Decimal(100):
        raise ValidationError({"gross_margin_percent": [_("Enter a margin greater than zero, up to 100 %.")]})
    row, _created = MetricsSettings.objects.update_or_create(
        pk=1,
        defaults={
            "gross_margin_percent": percent.quantize(Decimal("0.01")),
            "updated_by": actor,
            "updated_at": clock.now(),
        },
    )
    return row


SPEND_COLUMNS = (["month", "amount"], ["currency", "notes"])


def spend_import(*, text: str, actor: User, commit: bool = False) -> ImportReport:
    """A CSV of months and amounts (``month,amount[,currency,notes]``): each row checked and reported (create,
    update, unchanged, or why not); with ``commit``, all rows recorded in one transaction, or none
    (``ImportFailed``) when any row fails."""
    _ensure(can_enter_spend(actor), _("Only admins and leaders enter the sales and marketing spend."))
    report = ImportReport(kind="spend")
    required, optional = SPEND_COLUMNS
    _header, rows = read_rows(text, report, required=required, optional=optional)
    if report.errors:
        return report
    existing = {s.month: s for s in MonthlySpend.objects.all()}
    parsed: list[tuple[RowResult, dict]] = []
    seen: dict[date, int] = {}
    for line, row in rows:
        result = report.row_result(line, row.get("month", ""))
        report.rows.append(result)
        values: dict = {"notes": row.get("notes", ""), "currency": row.get("currency", "")}
        for name, parse in (("month", inputs.parse_month), ("amount_cents", inputs.parse_reais)):
            source = "month" if name == "month" else "amount"
            try:
                values[name] = parse(row.get(source, ""))
            except inputs.BadInput as exc:
                result.errors.append(f"{source}: {exc}")
        currency = (values["currency"] or REPORTING_CURRENCY).strip().upper()
        if currency != REPORTING_CURRENCY:
            result.errors.append(
                _("currency: the spend is entered in the workspace's reporting currency, %(currency)s.")
                % {"currency": REPORTING_CURRENCY}
            )
        if len(values["notes"]) > NOTES_MAX:
            result.errors.append(_("notes: at most %(max)s characters.") % {"max": NOTES_MAX})
        month = values.get("month")
        if month is not None:
            if month in seen:
                result.errors.append(
                    _("month %(month)s repeats line %(line)s.") % {"month": f"{month:%Y-%m}", "line": seen[month]}
                )
            seen.setdefault(month, line)
            before = existing.get(month)
            if before is None:
                result.action = "create"
            elif (before.amount_cents, before.notes) == (values.get("amount_cents"), values["notes"]):
                result.action = "unchanged"
            else:
                result.action = "update"
        if result.errors:
            result.action = "error"
        parsed.append((result, values))
    if not commit:
        return report
    if not report.ok:
        raise ImportFailed(report)
    with transaction.atomic():
        for result, values in parsed:
            if result.action != "unchanged":
                spend_record(
                    month=values["month"],
                    amount_cents=values["amount_cents"],
                    currency=values["currency"],
                    notes=values["notes"],
                    actor=actor,
                )
    return report
