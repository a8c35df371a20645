"""Growing the demo past what can be planned customer by customer in good time (``seed_demo --customers 500000``).

The first ``COPY_ABOVE`` customers are planned and written as always (``demo.portfolio``, ``demo.usage``,
``demo.surveys``, ``demo.health``); every further customer is a copy of one of them, written set-based: for each
copy, one ``INSERT … SELECT`` per table, in a transaction of its own, so a copy is there whole or not at all.
Customer ``n`` (``demo-n``) is a copy of base customer ``n mod COPY_ABOVE``, with its whole history: contacts,
subscriptions, MRR ledger, timeline, tasks, journey (milestones, handoff, reviews, churn requests, UTI stays),
survey deliveries and answers, usage, health scores, playbook runs and emails.

What a copy changes, so the copies are customers of their own and not duplicates:

- every id: a copied row's id is its base row's plus a multiple of the table's largest id, and so are the
  references between copied rows (a copied answer points at its copied delivery, which points at its copied
  contact); references to what is not copied (people, plans of the workspace, campaigns, playbooks, churn reasons,
  milestone templates, health profiles) stay;
- the customer's demo id, CNPJ and name (each drawn as the planner draws them, from the new index);
- every other text that is unique, alone or with other columns (external ids, tasks' and notifications'
  origin keys, usage events' source ids): a ``~n`` suffix, ``n`` the copy's number;
- each survey link: a new salt and the hash of its token, so every copied link opens its own delivery;
- Lucas, whose portfolio stays at ``LUCAS_CAP`` customers as the benchmarks expect, hands the copies of his
  customers to the other CSMs, one CSM per copy, everywhere his id appears (owner, author, assignee, the CSM an
  answer counted for).

What the copies leave to be rebuilt afterwards, as after any bulk load: the survey tallies and the metrics'
rollups and tallies (``seed_all`` rebuilds them); the health band tally follows by itself (statement triggers).
Identifiers inside JSON documents (a timeline entry's ``data``, a playbook run's ``facts``) still name the base
customer's rows: they are read as text on the timeline, never followed.

Only on PostgreSQL; the embedded default's demo never reaches ``COPY_ABOVE``.
"""

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models, transaction

from demo.people import DEMO_DOMAIN
from demo.plans import CSMS, EXTERNAL_PREFIX, _customer_name, cnpj_for
from surveys import tokens

COPY_ABOVE = 50_000  # customers planned one by one; beyond them, copies

# The apps whose rows describe a customer's life; the derived tables among them are rebuilt, not copied.
APPS = ("portfolio", "surveys", "health", "playbooks")
DERIVED = {"surveys_answertally", "surveys_deliverytally", "health_healthbandtally"}
CUSTOMER_TABLE = "portfolio_customer"
TASK_TABLE = "portfolio_task"
DELIVERY_TABLE = "surveys_delivery"
# Plain integer columns that hold a copied row's id (no foreign key, so the model does not say so).
ID_COLUMNS = {("surveys_response", "follow_up_task_id"): TASK_TABLE}


@dataclass
class Table:
    name: str
    columns: list[str]  # concrete, written columns (no generated ones)
    references: dict[str, str]  # column -> copied table it points at
    people: list[str]  # columns pointing at accounts_user
    unique_texts: list[str]  # unique text columns other than the customer's demo id
    parent: tuple[str, str] | None  # (column, table): how a row reaches its customer, if not by customer_id


def copied_tables() -> list[Table]:
    """The tables a copy writes, each after the tables it points at: every model of ``APPS`` that belongs to a
    customer directly (a ``customer`` key) or through another copied table (a churn request's save attempts, a
    run's steps), with the many-to-many tables between them (a customer's tags)."""
    candidates = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in APPS and model._meta.db_table not in DERIVED:
            candidates[model._meta.db_table] = model
    belongs: dict[str, tuple[str, str] | None] = {CUSTOMER_TABLE: None}
    changed = True
    while changed:  # a fixpoint: a table joins once one of its keys points at a table already in
        changed = False
        for name, model in candidates.items():
            if name in belongs:
                continue
            keys = _keys(model)
            if keys.get("customer_id") == CUSTOMER_TABLE:
                belongs[name] = None
                changed = True
                continue
            for column, target in keys.items():
                if target in belongs and not _nullable(model, column):
                    belongs[name] = (column, target)
                    changed = True
                    break
    tables = []
    written: set[str] = set()
    pending = [name for name in candidates if name in belongs]
    while pending:
        for name in list(pending):
            model = candidates[name]
            keys = _keys(model)
            needs = {t for c, t in keys.items() if t in belongs and t != name}
            if needs <= written:
                tables.append(_table(model, keys, belongs))
                written.add(name)
                pending.remove(name)
                break
        else:
            # A cycle among copied tables (none today): say so rather than guess an order.
            raise RuntimeError(f"demo.grow: no order for {pending}")
    return tables


def _keys(model) -> dict[str, str]:
    return {
        field.column: field.related_model._meta.db_table
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is not None
    }


def _nullable(model, column: str) -> bool:
    return next(f for f in model._meta.concrete_fields if f.column == column).null


def _table(model, keys: dict[str, str], belongs: dict) -> Table:
    name = model._meta.db_table
    fields = [f for f in model._meta.concrete_fields if not getattr(f, "generated", False)]
    references = {column: target for column, target in keys.items() if target in belongs}
    references |= {column: target for (table, column), target in ID_COLUMNS.items() if table == name}
    constrained = {
        name
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        for name in constraint.fields
    }
    unique_texts = [
        f.column
        for f in fields
        if (f.unique or f.name in constrained)
        and isinstance(f, models.CharField | models.TextField)
        and not (name == CUSTOMER_TABLE and f.column == "external_id")
        and name != DELIVERY_TABLE
    ]
    return Table(
        name=name,
        columns=[f.column for f in fields],
        references=references,
        people=[column for column, target in keys.items() if target == "accounts_user"],
        unique_texts=unique_texts,
        parent=belongs[name],
    )


def grow(total: int, base: int = COPY_ABOVE, progress: Callable[[str], None] | None = None) -> list[str]:
    """Copy the base's customers until the demo holds ``total`` (idempotent: copies already there are skipped).
    Customer ``n`` for ``base <= n < total`` is base customer ``n - k * base``'s ``k``-th copy."""
    report = progress or (lambda line: None)
    if total <= base:
        return []
    if connection.vendor != "postgresql":
        raise RuntimeError("The demo grows past its base by copies on PostgreSQL only.")
    there = _copied_so_far(base)
    copies = [
        (k, there.get(k, 0), min(base, total - k * base))
        for k in range(1, -(-total // base))
        if there.get(k, 0) < min(base, total - k * base)
    ]
    if not copies:
        return [f"copies: all {total - base} copied customers already there"]
    tables = copied_tables()
    parents = {table.name: table.parent for table in tables}
    people = _people()
    started = time.monotonic()
    with connection.cursor() as cursor:
        spans = {}
        for table in tables:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table.name}")  # noqa: S608 - a model's table
            spans[table.name] = cursor.fetchone()[0]
        _base_index(cursor, base)
        written = 0
        for order, (k, low, high) in enumerate(copies, start=1):
            with transaction.atomic():
                _new_customers(cursor, k * base, low, high)
                _new_links(cursor, k, low, high)
                for table in tables:
                    sql, params = _copy_sql(table, parents, spans, order, k, (low, high), people)
                    cursor.execute(sql, params)
                    written += cursor.rowcount
                    report(f"copies… {order}/{len(copies)}: {table.name}, {cursor.rowcount} rows")
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), greatest(max(id), 1)) FROM {table.name}",  # noqa: S608
                [table.name],
            )
    copied = sum(high - low for _k, low, high in copies)
    return [
        f"copies: {copied} customers copied from the first {base} in {len(copies)} copies, {written} rows, "
        f"in {time.monotonic() - started:.0f} s"
    ]


def _copied_so_far(base: int) -> dict[int, int]:
    """How many customers each copy already has (a copy is always a prefix of the base: its first ``n``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substr(external_id, %s)::int / %s AS copy, count(*) FROM portfolio_customer "
            "WHERE external_id LIKE %s GROUP BY 1",
            [len(EXTERNAL_PREFIX) + 1, base, f"{EXTERNAL_PREFIX}%"],
        )
        return dict(cursor.fetchall())


def external_id(index: int) -> str:
    return f"{EXTERNAL_PREFIX}{index:05d}"


def _people() -> dict[str, int]:
    from accounts.models import User

    return dict(User.objects.filter(email__in=[f"{key}@{DEMO_DOMAIN}" for key in CSMS]).values_list("email", "pk"))


def _base_index(cursor, base: int) -> None:
    """``grow_base``: each base customer's id and index (``demo-00042`` is 42)."""
    cursor.execute("DROP TABLE IF EXISTS grow_base")
    cursor.execute(
        "CREATE TEMP TABLE grow_base AS SELECT id, substr(external_id, %s)::int AS index, segment "
        "FROM portfolio_customer WHERE external_id LIKE %s AND substr(external_id, %s)::int < %s",
        [len(EXTERNAL_PREFIX) + 1, f"{EXTERNAL_PREFIX}%", len(EXTERNAL_PREFIX) + 1, base],
    )
    cursor.execute("CREATE UNIQUE INDEX ON grow_base (id)")
    cursor.execute("ANALYZE grow_base")


def _new_customers(cursor, first: int, low: int, high: int) -> None:
    """``grow_new``: the demo id, CNPJ and name of the copies of base customers ``low`` to ``high`` (excluded),
    numbered from ``first``; the name drawn as the planner draws one, from the copy's own random stream."""
    cursor.execute("SELECT index, segment FROM grow_base WHERE index >= %s AND index < %s ORDER BY index", [low, high])
    segments = cursor.fetchall()
    cursor.execute("DROP TABLE IF EXISTS grow_new")
    cursor.execute("CREATE TEMP TABLE grow_new (base_index int PRIMARY KEY, external_id text, cnpj text, name text)")
    with cursor.cursor.copy("COPY grow_new (base_index, external_id, cnpj, name) FROM STDIN") as copy:
        for index, segment in segments:
            new = first + index
            name, _core = _customer_name(random.Random(f"demo-copy-{new}"), segment)  # noqa: S311 - demo data
            copy.write_row((index, external_id(new), cnpj_for(new), name))
    cursor.execute("ANALYZE grow_new")


def _new_links(cursor, k: int, low: int, high: int) -> None:
    """``grow_link``: a new salt and token hash for each survey link of the customers copied."""
    cursor.execute(
        "SELECT d.id, d.token_salt FROM surveys_delivery d JOIN grow_base b ON b.id = d.customer_id "
        "WHERE b.index >= %s AND b.index < %s",
        [low, high],
    )
    links = cursor.fetchall()
    cursor.execute("DROP TABLE IF EXISTS grow_link")
    cursor.execute("CREATE TEMP TABLE grow_link (id bigint PRIMARY KEY, salt text, hash text)")
    with cursor.cursor.copy("COPY grow_link (id, salt, hash) FROM STDIN") as copy:
        for pk, salt in links:
            new_salt = hashlib.md5(f"{salt}~{k}".encode()).hexdigest()  # noqa: S324 - a salt, not a secret
            copy.write_row((pk, new_salt, tokens.token_hash(tokens.token_for(new_salt))))
    cursor.execute("ANALYZE grow_link")


def _copy_sql(table: Table, parents: dict, spans: dict[str, int], order: int, k: int, indexes, people: dict):
    """One copy's ``INSERT … SELECT`` for a table: its rows whose base customer's index is in ``indexes`` (low,
    high excluded), every id moved by ``order`` spans of its table."""
    lucas = people.get(f"lucas@{DEMO_DOMAIN}")
    others = [people[f"{key}@{DEMO_DOMAIN}"] for key in CSMS[1:] if f"{key}@{DEMO_DOMAIN}" in people]
    heir = others[(k - 1) % len(others)] if others else lucas
    params: list = []
    values = []
    for column in table.columns:
        if column == "id":
            values.append(f"t.id + {order * spans[table.name]}")
        elif column in table.references:
            target = table.references[column]
            values.append(f"t.{column} + {order * spans[target]}")
        elif column in table.people and lucas is not None:
            values.append(f"CASE WHEN t.{column} = %s THEN %s ELSE t.{column} END")
            params += [lucas, heir]
        elif table.name == CUSTOMER_TABLE and column in ("external_id", "cnpj", "name"):
            values.append(f"n.{column}")
        elif table.name == DELIVERY_TABLE and column in ("token_salt", "token_hash"):
            values.append("l.salt" if column == "token_salt" else "l.hash")
        elif column in table.unique_texts:
            values.append(f"t.{column} || %s")
            params.append(f"~{k}")
        else:
            values.append(f"t.{column}")
    joins, where = _reach(table, parents)
    if table.name == CUSTOMER_TABLE:
        joins += " JOIN grow_new n ON n.base_index = b.index"
    if table.name == DELIVERY_TABLE:
        joins += " JOIN grow_link l ON l.id = t.id"
    columns = ", ".join(table.columns)
    sql = (
        f"INSERT INTO {table.name} ({columns}) SELECT {', '.join(values)} "  # noqa: S608 - models' own tables
        f"FROM {table.name} t {joins} WHERE {where} >= %s AND {where} < %s"
    )
    return sql, [*params, *indexes]


def _reach(table: Table, parents: dict[str, tuple[str, str] | None]) -> tuple[str, str]:
    """The joins from a table's rows to their base customer (``b``), and the column holding its index: straight
    through ``customer_id``, or up the chain of parents (a run's step, through its run)."""
    if table.name == CUSTOMER_TABLE:
        return "JOIN grow_base b ON b.id = t.id", "b.index"
    joins, alias, hop, name = [], "t", table.parent, table.name
    while hop is not None:
        column, name = hop
        joins.append(f"JOIN {name} p{len(joins)} ON p{len(joins)}.id = {alias}.{column}")
        alias, hop = f"p{len(joins) - 1}", parents.get(name)
    key = "id" if name == CUSTOMER_TABLE else "customer_id"
    joins.append(f"JOIN grow_base b ON b.id = {alias}.{key}")
    return " ".join(joins), "b.index"
