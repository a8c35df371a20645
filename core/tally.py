"""What every tally the database keeps has in common (``health.tally``, ``portfolio.tally``, ``portfolio.book_tally``):
proving it equals a live count, cell by cell, and replacing it by one.

Each tally module says what a cell is, how to count it live and how to read what is stored; these two functions do
the rest the same way for all of them. ``core.tally_command.TallyCommand`` is their ``manage.py`` command."""

import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

logger = logging.getLogger(__name__)
SHOWN = 5  # differences written to the log when a tally is mended

C = TypeVar("C", bound=Hashable)
V = TypeVar("V")


@dataclass
class TallyCheck:
    cells: int  # cells compared: those counted live and those stored, together
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def compare(
    live: Mapping[C, V],
    stored: Mapping[C, V],
    *,
    empty: V,
    describe: Callable[[C, V, V], str],
    order: Callable[[C], Any] | None = None,
) -> TallyCheck:
    """Every cell counted live or stored, in order (``order``: a sort key, for cells holding None), and a line
    (``describe(cell, counted, stored)``) for each whose counts differ; a cell missing on one side counts ``empty``."""
    cells = sorted(live.keys() | stored.keys(), key=order)
    report = TallyCheck(cells=len(cells))
    for cell in cells:
        want, have = live.get(cell, empty), stored.get(cell, empty)
        if want != have:
            report.differences.append(describe(cell, want, have))
    return report


def replace(model: type[Model], cells: Callable[[], list[Model]], *, lock: Sequence[str]) -> int:
    """Replace every row of the tally ``model`` by ``cells()``, counted once the tables it counts (``lock``) are
    locked against writes (readers go on), so that nothing written meanwhile is counted twice or missed: by its
    trigger and by the count. Run it inside a transaction. Returns the number of cells written."""
    if connection.vendor == "postgresql" and lock:
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {', '.join(lock)} IN SHARE MODE")
    model.objects.all().delete()
    rows = cells()
    model.objects.bulk_create(rows)
    return len(rows)


def mend(name: str, tally: ModuleType) -> dict:
    """Check the tally (``tally.check()``) and, when it differs from its rows, log the first differences as an error
    and rebuild it (``tally.rebuild()``): what a restore that skipped the triggers, or a ``TRUNCATE``, left wrong
    is set right by the next night instead of showing on the pages until someone notices. Returns what it found."""
    report = tally.check()
    if report.ok:
        return {"tally": name, "cells": report.cells, "differences": 0, "rebuilt": False}
    logger.error(
        "tally differs from its rows; rebuilt",
        extra={"tally": name, "differences": len(report.differences), "first": report.differences[:SHOWN]},
    )
    tally.rebuild()
    return {"tally": name, "cells": report.cells, "differences": len(report.differences), "rebuilt": True}
