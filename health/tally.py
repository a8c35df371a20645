"""The per-day band tally of the scores (``health.models.HealthBandTally``): checked against the scores, or
rebuilt from them.

The database keeps the tally as scores are written and deleted (triggers, migration 0006): nothing in Leme writes
it. :func:`check` proves it equals a live count of ``HealthScore`` by day and band; :func:`rebuild` replaces it
from the scores (after a restore that skipped the triggers, or a ``TRUNCATE``, which fires none), the scores
locked against writes meanwhile so that none is counted twice or missed.
"""

from datetime import date

from django.db import transaction
from django.db.models import Count

from core.tally import TallyCheck, compare, replace
from health.models import HealthBandTally, HealthScore


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
    return compare(
        live_counts(),
        stored_counts(),
        empty=0,
        describe=lambda cell, want, have: f"{cell[0]} {cell[1] or 'none'}: {want} scores, the tally says {have}",
    )


@transaction.atomic
def rebuild() -> int:
    """Replace the tally by a count of the scores; returns the number of (day, band) cells written. Writers of
    scores wait until it is done (readers go on)."""
    return replace(
        HealthBandTally,
        lambda: [HealthBandTally(day=day, band=band, scores=n) for (day, band), n in sorted(live_counts().items())],
        lock=[HealthScore._meta.db_table],
    )
