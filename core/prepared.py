"""ORM queries whose SQL is built once per database connection (a web process's thread keeps its own between
requests) and then run again with other values.

Building a query's SQL (resolving its joins, listing and quoting the columns of every ``select_related`` model,
working out their converters) costs Django about as much as PostgreSQL takes to run a read by a unique key, and
it is the same work for every request: only the values change. :class:`Prepared` builds the queryset once, with
placeholder values, keeps what Django's compiler produced (the SQL text, where each value goes, the columns'
layout and converters), and on each call runs that text with the call's values and turns the rows into model
instances exactly as the queryset would (``select_related`` objects attached, deferred fields deferred).

    by_hash = Prepared(lambda h: Delivery.objects.select_related("campaign").filter(token_hash=h), "<hash>")
    delivery = by_hash.get(token_hash)   # Delivery.DoesNotExist when no row

:class:`PreparedInsert` does the same for writing a new row: the ``INSERT`` text is built once per connection and each
call binds one instance's values, as ``Model.save(force_insert=True)`` would (each field's ``pre_save`` and database
preparation, the key read back). A model someone listens to (``pre_save``/``post_save`` receivers), a value that is an
expression, or a multi-table model is saved by Django itself instead.

The queryset must be a plain model query (no annotations, ``values()``, prefetches or composite keys), and each
placeholder must reach the SQL as exactly one parameter, unchanged (pick values no real call uses). A query with
``select_for_update()`` must be run, and first built, inside a transaction, as the queryset itself would be.
"""

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet, signals
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # the query's parameters, a placeholder's index (an int in a 1-tuple) where a value goes
    model: type[Model]
    start: int
    end: int
    init_list: list[str]
    related_populators: list
    converters: list[tuple[int, tuple[list, Any]]]


class Prepared(Generic[M]):
    def __init__(self, build: Callable[..., QuerySet], *placeholders: Any) -> None:
        self._build = build
        self._placeholders = placeholders
        # Per connection (each thread has its own), as Django's compiler is: the backend's converters belong to it.
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _compile(self, using: str) -> _Compiled:
        queryset = self._build(*self._placeholders).using(using)
        query = queryset.query
        if query.annotations or query.values_select or queryset._prefetch_related_lookups:
            raise ValueError("a prepared query reads plain model rows")
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = []
        for value in params:
            matches = [i for i, placeholder in enumerate(self._placeholders) if value == placeholder]
            slots.append((matches[0],) if matches else value)
        placed = sorted(slot[0] for slot in slots if isinstance(slot, tuple))
        if placed != list(range(len(self._placeholders))):
            raise ValueError(f"each placeholder must be one parameter of the query: {params!r}")
        select, klass_info = compiler.select, compiler.klass_info
        fields = [s[0] for s in select[: compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise ValueError("a prepared query does not read composite fields")
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(slots),
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=[f[0].target.attname for f in select[start:end]],
            related_populators=get_related_populators(klass_info, select, using),
            converters=list(compiler.get_converters(fields).items()),
        )

    def sql(self, using: str = DEFAULT_DB_ALIAS) -> str:
        """The SQL text the query runs (its values as ``%s``)."""
        return self._prepared(using).sql

    def _prepared(self, using: str) -> _Compiled:
        connection = connections[using]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(using)
        return compiled

    def all(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[M]:
        """The query's rows, as model instances, with ``values`` in place of the placeholders."""
        compiled = self._prepared(using)
        connection = connections[using]
        params = [values[slot[0]] if isinstance(slot, tuple) else slot for slot in compiled.params]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        objects = []
        for row in rows:
            if compiled.converters:
                row = list(row)
                for position, (converters, expression) in compiled.converters:
                    value = row[position]
                    for converter in converters:
                        value = converter(value, expression, connection)
                    row[position] = value
            obj = compiled.model.from_db(using, compiled.init_list, row[compiled.start : compiled.end])
            for populator in compiled.related_populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects

    def get(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> M:
        """The one row; the model's ``DoesNotExist`` (or ``MultipleObjectsReturned``) as ``QuerySet.get``."""
        compiled = self._prepared(using)
        objects = self.all(*values, using=using)
        if len(objects) == 1:
            return objects[0]
        if not objects:
            raise compiled.model.DoesNotExist(f"{compiled.model._meta.object_name} matching query does not exist.")
        raise compiled.model.MultipleObjectsReturned(f"get() returned more than one {compiled.model._meta.object_name}")


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: list  # the columns written, in the statement's order
    returning: list  # the columns read back (the key)


class PreparedInsert(Generic[M]):
    """``INSERT`` one instance of ``model`` with SQL built once per connection: ``PreparedInsert(Activity).save(obj)``
    does what ``obj.save(force_insert=True)`` does for a plain model nobody listens to, without rebuilding the
    statement (listing, quoting and compiling every column) each time."""

    def __init__(self, model: type[M]) -> None:
        self._model = model
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _compile(self, connection) -> _Insert:
        meta = self._model._meta
        fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
        returning = list(meta.db_returning_fields)
        quote = connection.ops.quote_name
        # Names from the model's own metadata, quoted; the values are parameters.
        columns = ", ".join(quote(f.column) for f in fields)
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        if returning:
            sql += f" RETURNING {', '.join(quote(f.column) for f in returning)}"
        return _Insert(sql=sql, fields=fields, returning=returning)

    def _by_django(self, obj: M) -> bool:
        meta = self._model._meta
        return bool(
            meta.parents
            or meta.order_with_respect_to
            or signals.pre_save.has_listeners(self._model)
            or signals.post_save.has_listeners(self._model)
            or obj.pk is not None
        )

    def save(self, obj: M, using: str = DEFAULT_DB_ALIAS) -> M:
        """Write ``obj`` as a new row and set its key; returns it."""
        if self._by_django(obj):
            obj.save(force_insert=True, using=using)
            return obj
        connection = connections[using]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(connection)
        obj._prepare_related_fields_for_save(operation_name="save")
        values = []
        for field in compiled.fields:
            value = field.pre_save(obj, add=True)
            if hasattr(value, "resolve_expression"):  # a database default or an expression: Django's own insert
                obj.save(force_insert=True, using=using)
                return obj
            values.append(field.get_db_prep_save(value, connection=connection))
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, values)
            row = cursor.fetchone() if compiled.returning else ()
        for field, value in zip(compiled.returning, row, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using
        return obj
