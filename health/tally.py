"""The per-day band tally of the scores (``health.models.HealthBandTally``): checked against the scores, or
rebuilt from them.

The database keeps the tally as scores are written and deleted (triggers, migration 0006): nothing in Leme writes
it. :func:`check` proves it equals a live count of ``HealthScore`` by day and band; :func:`rebuild` replaces it
from the scores (after a restore that skipped the triggers, or a ``TRUNCATE``, which fires none), the scores
locked against writes meanwhile so that none is counted twice or missed.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.db.models import Count

from health.models import HealthBandTally, HealthScore


@dataclass
class TallyCheck:
    cells: int  # (day, band) pairs compared
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def live_counts() -> dict[tuple[date, str], int]:
    """Every day's scores by band, counted from ``HealthScore``: one query."""
    return {
        (row["day"], row["band"]): row["n"]
        for row in HealthScore.objects.values("day", "band").annotate(n=Count("pk")).order_by()
    }


def stored_counts() -> dict[tuple[date, str], int]:
    """The tally, its empty cells left out (a day whose scores were all deleted keeps rows at 0)."""
    rows = HealthBandTally.objects.exclude(scores=0).values_list("day", "band", "scores")
    return {(day, band): n for day, band, n in rows}


def check() -> TallyCheck:
    """Compare the tally with the scores, cell by cell; writes nothing."""
    live, stored = live_counts(), stored_counts()
    cells = sorted(live.keys() | stored.keys())
    report = TallyCheck(cells=len(cells))
    for day, band in cells:
        want, have = live.get((day, band), 0), stored.get((day, band), 0)
        if want != have:
            report.differences.append(f"{day} {band or 'none'}: {want} scores, the tally says {have}")
    return report


@transaction.atomic
def rebuild() -> int:
    """Replace the tally by a count of the scores; returns the number of (day, band) cells written."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Writers of scores wait until the tally is rebuilt (readers go on): a score written meanwhile would
            # be counted by its trigger and by the count.
            cursor.execute(f"LOCK TABLE {HealthScore._meta.db_table} IN SHARE MODE")
    HealthBandTally.objects.all().delete()
    rows = [HealthBandTally(day=day, band=band, scores=n) for (day, band), n in sorted(live_counts().items())]
    HealthBandTally.objects.bulk_create(rows)
    return len(rows)
