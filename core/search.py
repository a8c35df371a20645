"""Text search that ignores accents and case: "sao paulo" finds "São Paulo".

On PostgreSQL, :class:`Folded` is ``leme_fold(text)``, an IMMUTABLE SQL function created by portfolio's
migration ``0010_search`` that lower-cases and strips accents with the ``unaccent`` extension. ``unaccent``
itself is only STABLE (its dictionary could change), so an index cannot use it; the wrapper promises the
dictionary will not change, and the GIN trigram indexes (``pg_trgm``) on ``leme_fold(name)`` and friends serve
``LIKE '%term%'`` on 50,000 rows in a few milliseconds.

On SQLite (the embedded run) there is no such function: ``Folded`` is ``LOWER(text)`` there, which folds
case for ASCII letters only; accents are not folded. Search still works, less forgiving.
"""

from django.db.models import Func, Q, TextField, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Contains

FOLD_FUNCTION = "leme_fold"
# Fewer characters than this match too much to be useful, and a trigram index cannot narrow them.
MIN_TERM = 2


class Folded(Func):
    """``expression`` lower-cased and without accents, as the search indexes hold it."""

    function = FOLD_FUNCTION
    output_field = TextField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="LOWER", **extra_context)


class FoldedSortKey(Folded):
    """``Folded(expression)`` in byte order (``COLLATE "C"``), the order of the B-tree indexes on ``leme_fold``
    that serve "starts with": sorting by it lets PostgreSQL read the first rows off the index."""

    template = '%(function)s(%(expressions)s) COLLATE "C"'

    def as_sqlite(self, compiler, connection, **extra_context):
        return Func.as_sql(self, compiler, connection, function="LOWER", template="%(function)s(%(expressions)s)")


def folded_contains(field: str, term: str) -> Q:
    """Rows whose ``field``, folded, contains ``term``, folded the same way (in the database, so both sides
    go through the same rules). An index on ``leme_fold(field) gin_trgm_ops`` serves it: the folded term is a
    constant the planner computes before it picks the index."""
    return Q(Contains(Folded(field), Folded(Value(term))))


def lower_contains(field: str, term: str) -> Q:
    """Rows whose ``field`` contains ``term``, case ignored: for text without accents (emails), which an index
    on ``lower(field) gin_trgm_ops`` serves."""
    return Q(Contains(Lower(field), Lower(Value(term))))
