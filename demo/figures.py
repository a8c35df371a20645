"""The metrics' rollups of the demo, built once at the end of the seed, so the first page that shows a figure (My
day's tiles, the metrics page) does not rebuild three years of them on its first visit."""

from collections.abc import Callable

from metrics import services


def seed_figures(*, customers: int | None = None, seed: int = 2026, progress: Callable[[str], None] | None = None):
    report = progress or (lambda line: None)
    report("metrics… building the monthly figures from the MRR ledger")
    built = services.rollups_refresh()
    report("metrics… counting the CS operations' closed months")
    tallies = services.operations_tallies_rebuild()
    return [f"metrics: {built} period rollups built", f"metrics: {tallies['rows']} CS operations tally rows"]
