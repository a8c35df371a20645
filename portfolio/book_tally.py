"""The customers and MRR per CSM, stage, service model, segment and band (``portfolio.models.CustomerBookTally``):
checked against the customers, or rebuilt from them.

The database keeps the tally as customers are written (triggers, migration 0030): nothing in Leme writes it.
:func:`check` proves it equals a live count of the customers by those five columns; :func:`rebuild` replaces it
from them (after a restore that skipped the triggers), the customers locked against writes meanwhile so that none is
counted twice or missed. A ``TRUNCATE`` of the customers empties the tally by a trigger of its own.
"""

from django.db import connection, transaction
from django.db.models import Count, Sum

from core.tally import TallyCheck, compare, replace
from portfolio.models import Customer, CustomerBookTally

KEY = ("owner_id", "stage", "service_model", "segment", "health_band")
Cell = tuple[int | None, str, str, str, str]  # (CSM's id or None, stage, service model, segment, band or "")
Counts = tuple[int, int]  # (customers, MRR in cents)


def kept() -> bool:
    """Whether the database keeps the tally: PostgreSQL, where migration 0030 made its triggers."""
    return connection.vendor == "postgresql"


def live_counts() -> dict[Cell, Counts]:
    """The customers and their MRR by CSM, stage, service model, segment and band, counted: one query."""
    rows = Customer.objects.values_list(*KEY).annotate(n=Count("pk"), mrr=Sum("mrr_cents")).order_by()
    return {tuple(row[:5]): (row[5], row[6]) for row in rows}


def stored_counts() -> dict[Cell, Counts]:
    """The tally, its empty cells left out (a cell whose customers all moved away keeps its row at 0)."""
    rows = CustomerBookTally.objects.exclude(customers=0, mrr_cents=0).values_list(*KEY, "customers", "mrr_cents")
    return {tuple(row[:5]): (row[5], row[6]) for row in rows}


def _label(cell: Cell) -> str:
    owner, stage, service_model, segment, band = cell
    return f"CSM {owner or 'none'} {stage} {service_model} {segment} {band or 'none'}"


def check() -> TallyCheck:
    """Compare the tally with the customers, cell by cell; writes nothing."""
    return compare(
        live_counts(),
        stored_counts(),
        empty=(0, 0),
        describe=lambda cell, want, have: f"{_label(cell)}: {want} customers, MRR; tally {have}",
        order=lambda cell: (cell[0] or 0, *cell[1:]),
    )


@transaction.atomic
def rebuild() -> int:
    """Replace the tally by a count of the customers; returns the number of cells written. Writers of customers wait
    until it is done (readers go on)."""
    return replace(
        CustomerBookTally,
        lambda: [
            CustomerBookTally(**dict(zip(KEY, cell, strict=True)), customers=n, mrr_cents=mrr)
            for cell, (n, mrr) in live_counts().items()
        ],
        lock=[Customer._meta.db_table],
    )
