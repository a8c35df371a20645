"""Moving one row of an ordered list (a part's review questions, a service model's milestones) up or down."""

from collections.abc import Sequence
from typing import Any


def swap_with_neighbour(rows: Sequence[Any], pk: int, *, up: bool, update_fields: Sequence[str] = ("position",)):
    """Swap the row ``pk`` with the one before (``up``) or after it in ``rows`` (locked, in their order), number
    them 1, 2, 3… again and save the rows whose ``position`` changed. Returns (the moved row, its old position,
    its new one), or None at an end of the list, where nothing changes."""
    rows = list(rows)
    index = next(i for i, row in enumerate(rows) if row.pk == pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(rows):
        return None
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            row.position = position
            row.save(update_fields=list(update_fields))
    return rows[other], index + 1, other + 1
