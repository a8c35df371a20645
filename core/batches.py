"""Writing many derived rows from a generator, a batch at a time: never all of them in memory at once."""

from collections.abc import Iterable

from django.db.models import Model


def bulk_create_in_batches(model: type[Model], rows: Iterable[Model], size: int = 5000) -> int:
    """``bulk_create`` the ``rows`` (unsaved instances of ``model``) ``size`` at a time; how many were written."""
    written, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            written += len(model.objects.bulk_create(batch))
            batch = []
    return written + len(model.objects.bulk_create(batch))
