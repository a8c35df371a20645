"""Text search that ignores accents and case: "sao paulo" finds "São Paulo".

On PostgreSQL, :class:`Folded` is ``leme_fold(text)``, an IMMUTABLE SQL function created by portfolio's
migration ``0010_search`` that lower-cases and strips accents with the ``unaccent`` extension. ``unaccent``
itself is only STABLE (its dictionary could change), so an index cannot use it; the wrapper promises the
dictionary will not change.

Customers' and contacts' names are stored folded by the database (``name_folded``, a generated column of
``leme_fold(name)``, portfolio's migration ``0018``): search matches those (:func:`stored_folded_contains`), and
the GIN trigram indexes (``pg_trgm``) that serve ``LIKE '%term%'`` are on them, so the candidates an index returns
are checked on stored text (``unaccent`` costs about 6 µs a row, ten times ``lower``).

On SQLite (the embedded run) there is no such function: ``Folded`` is ``LOWER(text)`` there, which folds
case for ASCII letters only; accents are not folded. Search still works, less forgiving.
"""

from django.db.models import F, Func, Q, TextField, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Contains, StartsWith

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


class ByteOrder(Func):
    """``expression COLLATE "C"`` on PostgreSQL (the order of the B-tree indexes that serve "starts with" on a
    stored folded column), the expression alone on SQLite."""

    template = '%(expressions)s COLLATE "C"'
    output_field = TextField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="%(expressions)s", **extra_context)


def stored_folded_contains(column: str, term: str) -> Q:
    """Rows whose stored folded ``column`` (a ``GeneratedField`` of ``Folded(name)``) contains ``term`` folded the
    same way: the trigram index on the column finds the candidates and PostgreSQL checks them on the stored text,
    without folding each row again."""
    return Q(Contains(F(column), Folded(Value(term))))


def stored_folded_starts(column: str, term: str) -> Q:
    """Rows whose stored folded ``column`` starts with ``term`` folded (a B-tree on ``column COLLATE "C"``)."""
    return Q(StartsWith(F(column), Folded(Value(term))))


def folded_contains(field: str, term: str) -> Q:
    """Rows whose ``field``, folded, contains ``term``, folded the same way (in the database, so both sides
    go through the same rules). An index on ``leme_fold(field) gin_trgm_ops`` would serve it: the folded term is
    a constant the planner computes before it picks the index. For names, prefer the stored column."""
    return Q(Contains(Folded(field), Folded(Value(term))))


def lower_contains(field: str, term: str) -> Q:
    """Rows whose ``field`` contains ``term``, case ignored: for text without accents (emails), which an index
    on ``lower(field) gin_trgm_ops`` serves."""
    return Q(Contains(Lower(field), Lower(Value(term))))
