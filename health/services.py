"""Every write of health: the nightly score and the overrides (usage events in: ``health.usage``).

Ingest (``usage_events_ingest``) is all or nothing: the batch is checked (``health.ingest``) and stored only when
every event passes; events are inserted in one statement that skips the event ids already stored, and the days
the new events fell on are rolled up by a task queued after commit.
"""

import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.access import can_override_health, ensure_can_write
from accounts.models import User
from core import clock, locks
from core.events import publish
from health import readings
from health.events import HealthBandChanged
from health.measures import MEASURES, Reading, fell_most, score
from health.models import Band, HealthOverride, HealthProfileVersion, HealthScore, ProfileStage
from health.selectors import licences
from portfolio.models import ChurnOutcome, ChurnRequest, Customer, Stage, UtiExit, UtiStay
from portfolio.services import TimelineEntry, activities_log_many

#
# ``scores_recompute(day)`` is the nightly job. Exactly once, whatever happens to it:
#
# 1. Overrides whose ``ends_on`` has passed end (with a timeline entry each).
# 2. The customers not churned are taken in chunks of ``CHUNK_SIZE``, in the order of their ids, so the run's
#    memory is bounded by the chunk, not by the number of customers. For each chunk:
#    a. every measure is read for the chunk's range of ids, one aggregate query per measure (``health.readings``,
#       through each table's index on the customer), and each customer is scored in Python under its profile's
#       latest version (no measure compares a customer with the others: a chunk is scored on its own);
#    b. its rows are written in batches with one upsert on (customer, day), each batch in its own transaction:
#       a second run of the day rewrites the same rows, and a run killed between batches leaves rows that the next
#       run overwrites;
#    c. in one transaction: the chunk's customers' current health (``portfolio.Customer.health_*``) is updated
#       set-based, each change of the band people see (the override's while one is in force) gets a timeline
#       entry, and ``HealthBandChanged`` is published after commit for the entries written now (a subscriber reads
#       the customer's health already updated). The timeline entries carry an external id per customer and day,
#       so a rerun or a restart, after any chunk, writes and announces nothing twice.
#    ``announce=False`` records the changes on the timeline without publishing them: the demo scoring its past
#    days (``demo.health``), whose changes are history, not news for the playbooks to act on today.
# 3. Churned customers lose their health.
#
# Two runs of one day never overlap (a PostgreSQL advisory lock; the second returns at once).


logger = logging.getLogger(__name__)

HEALTH_ACTIVITY = "health"
RUN_LOCK = 0x4EA1
CHUNK_SIZE = 10_000  # customers read, scored, written and announced together
BATCH_SIZE = 1000
OVERRIDE_DAYS = 30
USAGE_MEASURES = ("adoption", "depth", "trend", "engagement")
HEALTH_FIELDS = ["health_real_score", "health_real_band", "health_band", "health_score", "health_change_7d"]


@dataclass(frozen=True)
class RunResult:
    day: date
    scored: int
    band_changes: int
    overrides_ended: int
    skipped: bool = False


def _band_label(band: str) -> str:
    return str(Band(band).label) if band else "—"


def _profile_stage(stage: str) -> str:
    return ProfileStage.ONBOARDING if stage == Stage.ONBOARDING else ProfileStage.ONGOING


def latest_versions() -> dict[tuple[str, str], HealthProfileVersion]:
    """The version each (service model, stage) is scored with now: its profile's latest. One query."""
    found: dict[tuple[str, str], HealthProfileVersion] = {}
    for version in HealthProfileVersion.objects.select_related("profile").order_by("profile_id", "-number"):
        found.setdefault((version.profile.service_model, version.profile.stage), version)
    return found


def scores_recompute(day: date | None = None, *, announce: bool = True) -> RunResult:
    """Score every customer for ``day`` (today by default); see the module's docstring. With ``announce=False``
    the band changes go on the timeline (dated by ``core.clock``) but ``HealthBandChanged`` is not published:
    for days already past, such as the demo's history, which no playbook should act on now."""
    day = day or clock.today()
    with locks.exclusive(RUN_LOCK, day.toordinal()) as acquired:
        if not acquired:
            logger.info("health run already under way", extra={"day": day.isoformat()})
            return RunResult(day=day, scored=0, band_changes=0, overrides_ended=0, skipped=True)
        # Ended before the chunks are read: an override in force is one whose ``ends_on`` is ``day`` or later, so
        # those that ran out are not read as in force either way.
        ended = overrides_expire(day)
        versions = latest_versions()
        scored = changed = after = 0
        while done := _score_chunk(day, after, versions, announce=announce):
            after, chunk_scored, chunk_changed = done
            scored += chunk_scored
            changed += chunk_changed
        _clear_churned()
    logger.info("health run done", extra={"day": day.isoformat(), "scored": scored, "changes": changed})
    return RunResult(day=day, scored=scored, band_changes=changed, overrides_ended=ended)


@dataclass(frozen=True)
class _Previous:
    """What a customer showed before the run (``Customer.health_band``: an override's band while one is in
    force), and the day of its latest earlier row (whose measures explain a change)."""

    day: date | None
    shown: str


def _score_chunk(
    day: date, after: int, versions: dict[tuple[str, str], HealthProfileVersion], *, announce: bool
) -> tuple[int, int, int] | None:
    """Score, write and announce the next chunk of customers (those after the id ``after``): returns its last id,
    its rows and its band changes, or None when no customer is left. Its rows are let go when it returns, before
    the next chunk is read: one chunk in memory at a time."""
    customers = _chunk(day, after)
    if not customers:
        return None
    between = (customers[0]["pk"], customers[-1]["pk"])
    rows, previous, overrides = _compute(day, customers, versions, between)
    for start in range(0, len(rows), BATCH_SIZE):
        _write_batch(rows[start : start + BATCH_SIZE])
    return between[1], len(rows), _finish(day, rows, previous, overrides, between, announce=announce)


def _chunk(day: date, after: int) -> list[dict]:
    """The next ``CHUNK_SIZE`` customers not churned whose id is above ``after``, in the order of their ids, with
    what scoring them reads from their own rows. One query (the primary key's index, from ``after``)."""
    earlier = HealthScore.objects.filter(customer=OuterRef("pk"), day__lt=day).order_by("-day")
    # The day before's band, from the scores' (customer, day) index alone (it carries the band).
    day_before = HealthScore.objects.filter(customer=OuterRef("pk"), day=day - timedelta(days=1)).order_by()
    return list(
        Customer.objects.exclude(stage=Stage.CHURNED)
        .filter(pk__gt=after)
        .annotate(
            open_churn=Exists(ChurnRequest.objects.filter(customer=OuterRef("pk"), outcome=ChurnOutcome.OPEN)),
            open_uti=Exists(UtiStay.objects.filter(customer=OuterRef("pk"), exit=UtiExit.OPEN)),
            previous_day=Subquery(earlier.values("day")[:1]),
            previous_band=Subquery(day_before.values("band")[:1]),
        )
        .order_by("pk")
        .values(
            "pk",
            "service_model",
            "stage",
            "start_date",
            "open_churn",
            "open_uti",
            "previous_day",
            "previous_band",
            "health_band",
        )[:CHUNK_SIZE]
    )


def _compute(
    day: date,
    customers: list[dict],
    versions: dict[tuple[str, str], HealthProfileVersion],
    between: tuple[int, int],
) -> tuple[list[HealthScore], dict[int, _Previous], dict[int, HealthOverride]]:
    """A chunk's rows (not written yet), what each of its customers showed before, and the overrides in force on
    ``day`` by customer. Every reading is of the customers whose id is in ``between`` (the chunk's first and last)."""
    ids = [c["pk"] for c in customers]
    configs = [v.measures for v in versions.values()]
    lookback = max([int(c[k].get("fresh_days", 90)) for c in configs for k in USAGE_MEASURES if k in c] or [90])
    survey_fresh = max([int(c["survey"].get("fresh_days", 180)) for c in configs if "survey" in c] or [180])
    seats = licences(Customer.objects.exclude(stage=Stage.CHURNED).filter(pk__range=between))
    found: dict[str, dict[int, Reading]] = {
        **readings.usage(
            day,
            ids,
            seats,
            lookback=lookback,
            key_event_sets=[v.key_events for v in versions.values()],
            between=between,
        ),
        "relationship": readings.relationship(day, {c["pk"]: c["start_date"] for c in customers}, between=between),
        "stakeholders": readings.stakeholders(ids, between=between),
        "survey": readings.survey(day, fresh_days=survey_fresh, between=between),
        "payment": readings.payment(between=between),
        "onboarding": readings.onboarding(day, between=between),
        "churn_risk": readings.churn_risk({c["pk"]: (c["open_churn"], c["open_uti"]) for c in customers}),
    }
    # In force on ``day``: the ones that ran out were ended before the chunks were read.
    overrides = {
        o.customer_id: o
        for o in HealthOverride.objects.filter(
            ended_at__isnull=True, ends_on__gte=day, customer_id__gte=between[0], customer_id__lte=between[1]
        )
    }
    now = clock.now()
    rows, previous = [], {}
    for customer in customers:
        version = versions.get((customer["service_model"], _profile_stage(customer["stage"])))
        if version is None:
            continue
        cid = customer["pk"]
        result = score(
            version.measures,
            {
                key: found[readings.depth_key(version.key_events) if key == "depth" else key].get(cid)
                for key in version.measures
                if key in MEASURES
            },
            day=day,
            red_max=version.red_max,
            yellow_max=version.yellow_max,
        )
        override = overrides.get(cid)
        rows.append(
            HealthScore(
                customer_id=cid,
                day=day,
                score=result.score,
                band=result.band,
                profile_version=version,
                measures=result.measures,
                override_id=override.pk if override else None,
                computed_at=now,
                previous_band=customer["previous_band"] or "",
            )
        )
        previous[cid] = _Previous(day=customer["previous_day"], shown=customer["health_band"] or "")
    return rows, previous, overrides


SCORE_FIELDS = ["score", "band", "profile_version", "measures", "override", "computed_at"]
SCORES_IN = "health_scores_in"  # a temporary table per batch, dropped at its commit
WRITE_SCORES_SQL = f"""
INSERT INTO health_healthscore
    (customer_id, day, score, band, profile_version_id, measures, override_id, computed_at, previous_band)
SELECT customer_id, %(day)s, score, band, profile_version_id, measures, override_id, %(now)s, previous_band
FROM {SCORES_IN}
ON CONFLICT (customer_id, day) DO UPDATE SET
    score = EXCLUDED.score, band = EXCLUDED.band, profile_version_id = EXCLUDED.profile_version_id,
    measures = EXCLUDED.measures, override_id = EXCLUDED.override_id, computed_at = EXCLUDED.computed_at,
    previous_band = EXCLUDED.previous_band
"""  # noqa: S608 - a fixed table name, values as parameters


def _write_batch(rows: list[HealthScore]) -> None:
    """One batch of the day's rows, in its own transaction (a second run overwrites them).

    On PostgreSQL the rows are copied (``COPY``) into a temporary table and upserted from it in one INSERT … ON
    CONFLICT DO UPDATE: ``bulk_create`` prepared 8,000 values a batch through the model's fields and had psycopg
    split a statement of 8,000 placeholders, and arrays of JSON documents are quoted one by one in Python (a regex
    each); COPY writes the rows in psycopg's C code."""
    if not rows:
        return
    with transaction.atomic():
        if connection.vendor != "postgresql":
            HealthScore.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["customer", "day"],
                update_fields=[*SCORE_FIELDS, "previous_band"],
            )
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {SCORES_IN} (customer_id bigint, score integer, band text, "
                "profile_version_id bigint, measures jsonb, override_id bigint, previous_band text) ON COMMIT DROP"
            )
            columns = "customer_id, score, band, profile_version_id, measures, override_id, previous_band"
            with cursor.cursor.copy(f"COPY {SCORES_IN} ({columns}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(
                        (
                            r.customer_id,
                            r.score,
                            r.band,
                            r.profile_version_id,
                            json.dumps(r.measures),
                            r.override_id,
                            r.previous_band,
                        )
                    )
            cursor.execute(WRITE_SCORES_SQL, {"day": rows[0].day, "now": rows[0].computed_at})
            # Dropped now as well as at commit: the batch may run inside a larger transaction.
            cursor.execute(f"DROP TABLE {SCORES_IN}")


def _update_customers(day: date, between: tuple[int, int]) -> None:
    """The current health of the customers whose id is in ``between`` from their rows of the day: one UPDATE …
    FROM on PostgreSQL, a bulk update from the rows read in Python elsewhere (the embedded SQLite run)."""
    if connection.vendor == "postgresql":
        _update_customers_sql(day, between)
    else:
        _update_customers_python(day, between)


def _clear_churned() -> None:
    """Churned customers lose their health (one UPDATE, of those that still show one)."""
    Customer.objects.filter(stage=Stage.CHURNED).exclude(health_band="", health_score__isnull=True).update(
        health_score=None, health_band="", health_real_score=None, health_real_band="", health_change_7d=None
    )


def _update_customers_sql(day: date, between: tuple[int, int]) -> None:
    """The effective health is the override's while one is in force on the day's row; the 7-day change is the
    computed score's. The rows and the customers are found by the range of ids (their primary key and the
    scores' unique (customer, day))."""
    week = day - timedelta(days=7)
    customer, score_table, override = (
        Customer._meta.db_table,
        HealthScore._meta.db_table,
        HealthOverride._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {customer} AS c SET
                health_real_score = s.score,
                health_real_band = s.band,
                health_band = COALESCE(o.band, s.band),
                health_score = COALESCE(o.score, s.score),
                health_change_7d = s.score - w.score
            FROM {score_table} AS s
            LEFT JOIN {score_table} AS w ON w.customer_id = s.customer_id AND w.day = %(week)s
            LEFT JOIN {override} AS o ON o.id = s.override_id
            WHERE s.day = %(day)s AND c.id = s.customer_id
              AND s.customer_id BETWEEN %(first)s AND %(last)s AND c.id BETWEEN %(first)s AND %(last)s
              -- rewrite only the customers whose health moved: most nights, most of them did not
              AND (c.health_real_score, c.health_real_band, c.health_band, c.health_score, c.health_change_7d)
                  IS DISTINCT FROM (s.score, s.band, COALESCE(o.band, s.band), COALESCE(o.score, s.score),
                                    s.score - w.score)
            """,  # noqa: S608 - table names from the models, values as parameters
            {"day": day, "week": week, "first": between[0], "last": between[1]},
        )


def _update_customers_python(day: date, between: tuple[int, int]) -> None:
    """The same as the SQL, in Python: the embedded SQLite run (proved equal in tests/health)."""
    week = day - timedelta(days=7)
    chunk = HealthScore.objects.filter(customer_id__gte=between[0], customer_id__lte=between[1])
    weeks = dict(chunk.filter(day=week).values_list("customer_id", "score"))
    updates = []
    for row in chunk.filter(day=day).values("customer_id", "score", "band", "override__band", "override__score"):
        real, before = row["score"], weeks.get(row["customer_id"])
        updates.append(
            Customer(
                pk=row["customer_id"],
                health_real_score=real,
                health_real_band=row["band"],
                health_band=row["override__band"] or row["band"],
                health_score=row["override__score"] if row["override__score"] is not None else real,
                health_change_7d=real - before if real is not None and before is not None else None,
            )
        )
    Customer.objects.bulk_update(updates, HEALTH_FIELDS, batch_size=500)


def _finish(
    day: date,
    rows: list[HealthScore],
    previous: dict[int, _Previous],
    overrides: dict[int, HealthOverride],
    between: tuple[int, int],
    *,
    announce: bool = True,
) -> int:
    """A chunk's customers' current health, the timeline entries of their band changes and (when ``announce``)
    their events; one transaction, nothing twice. Returns the number of changes from one band to another written
    now."""
    announced: list[tuple[HealthScore, str, str]] = []
    with transaction.atomic():
        _update_customers(day, between)
        entries, pending = [], {}
        override_bands = {override.pk: override.band for override in overrides.values()}

        def shown_of(row: HealthScore) -> str:
            return override_bands.get(row.override_id) or row.band

        changed = [row for row in rows if shown_of(row) != previous[row.customer_id].shown]
        before = _rows_before(day, [row.customer_id for row in changed], previous)
        for row in changed:
            shown = shown_of(row)
            if not shown:
                continue
            prev = previous[row.customer_id]
            key = f"health-band:{row.customer_id}:{day.isoformat()}"
            reason = fell_most(before[row.customer_id], row.measures) if row.customer_id in before else None
            entries.append(
                TimelineEntry(
                    customer_id=row.customer_id,
                    kind=HEALTH_ACTIVITY,
                    title=_band_change_title(prev.shown, shown, row.score),
                    body=reason.text if reason else "",
                    data={"day": day.isoformat(), "from": prev.shown, "to": shown},
                    external_id=key,
                )
            )
            pending[key] = (row, prev.shown, shown)
        for key in activities_log_many(entries):
            row, from_band, to_band = pending[key]
            # A first score is where the customer starts, not a change: on the night health is switched on every
            # customer gets one, and announcing them all would enrol every red customer in the risk playbooks at
            # once. The timeline keeps it; the next change is announced.
            if from_band:
                announced.append(pending[key])
        if announce:
            for row, from_band, to_band in announced:
                publish(
                    HealthBandChanged(
                        customer_id=row.customer_id, day=day, from_band=from_band, to_band=to_band, score=row.score or 0
                    )
                )
    return len(announced)


def _rows_before(day: date, customer_ids: list[int], previous: dict[int, _Previous]) -> dict[int, dict]:
    """The measures of each changed customer's previous row, in one query."""
    days = [previous[c].day for c in customer_ids if previous[c].day]
    if not days:
        return {}
    found = {}
    for customer_id, row_day, measures in HealthScore.objects.filter(
        customer_id__in=customer_ids, day__gte=min(days), day__lt=day
    ).values_list("customer_id", "day", "measures"):
        if previous[customer_id].day == row_day:
            found[customer_id] = measures
    return found


def _band_change_title(from_band: str, to_band: str, value: int | None) -> str:
    if not from_band:
        return _("Health: first score, %(band)s (%(score)s)") % {"band": _band_label(to_band), "score": value}
    return _("Health: %(from)s → %(to)s (%(score)s)") % {
        "from": _band_label(from_band),
        "to": _band_label(to_band),
        "score": value if value is not None else "—",
    }


# --- Overrides --------------------------------------------------------------------------------------------


def _shown(customer: Customer) -> str:
    return customer.health_band or ""


def _announce(
    customer: Customer, *, from_band: str, to_band: str, title: str, body: str, key: str, publish_change: bool = True
) -> None:
    """A timeline entry and, when the band people see changed, ``HealthBandChanged`` after commit."""
    activities_log_many(
        [
            TimelineEntry(
                customer_id=customer.pk,
                kind=HEALTH_ACTIVITY,
                title=title,
                body=body,
                data={"from": from_band, "to": to_band},
                external_id=key,
            )
        ]
    )
    if publish_change and from_band != to_band and to_band:
        publish(
            HealthBandChanged(
                customer_id=customer.pk,
                day=clock.today(),
                from_band=from_band,
                to_band=to_band,
                score=customer.health_score or 0,
            )
        )


@transaction.atomic
def override_start(
    *, customer: Customer, actor: User, band: str, reason: str, ends_on: date | None = None, score: int | None = None
) -> HealthOverride:
    """Override the customer's health band (and, optionally, score) until ``ends_on`` (30 days by default).
    The computed score goes on being computed beside it; an override in force is replaced."""
    ensure_can_write(actor)
    if not can_override_health(actor):
        raise PermissionDenied(_("You may not override this customer's health."))
    today = clock.today()
    ends_on = ends_on or today + timedelta(days=OVERRIDE_DAYS)
    errors = {}
    if band not in Band.values:
        errors["band"] = _("Choose red, yellow or green.")
    if not (reason or "").strip():
        errors["reason"] = _("Say why: the next person to read this health needs to know.")
    if ends_on < today:
        errors["ends_on"] = _("The end date cannot be in the past.")
    elif ends_on > today + timedelta(days=365):
        errors["ends_on"] = _("An override lasts a year at most.")
    if score is not None and not 0 <= score <= 100:
        errors["score"] = _("A score goes from 0 to 100.")
    if errors:
        raise ValidationError(errors)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    from_band = _shown(customer)
    now = clock.now()
    HealthOverride.objects.filter(customer=customer, ended_at__isnull=True).update(ended_at=now, ended_by=actor)
    override = HealthOverride.objects.create(
        customer=customer,
        band=band,
        score=score,
        reason=reason.strip(),
        ends_on=ends_on,
        created_by=actor,
        created_at=now,
    )
    HealthScore.objects.filter(customer=customer, day=today).update(override=override)
    customer.health_band = band
    customer.health_score = score if score is not None else customer.health_real_score
    Customer.objects.filter(pk=customer.pk).update(health_band=customer.health_band, health_score=customer.health_score)
    _announce(
        customer,
        from_band=from_band,
        to_band=band,
        title=_("Health overridden: %(band)s until %(date)s")
        % {"band": _band_label(band), "date": date_format(ends_on, "SHORT_DATE_FORMAT")},
        body=override.reason,
        key=f"health-override:{override.pk}",
    )
    return override


@transaction.atomic
def override_end(*, override: HealthOverride, actor: User | None) -> HealthOverride:
    """End an override: the computed band shows again. ``actor`` None: it ran out, and the nightly run that
    ends it writes the customer's health and announces the band itself (so a restarted run still does)."""
    ensure_can_write(actor)
    if actor is not None and not can_override_health(actor):
        raise PermissionDenied(_("You may not override this customer's health."))
    override = HealthOverride.objects.select_for_update().get(pk=override.pk)
    if override.ended_at is not None:
        return override
    override.ended_at = clock.now()
    override.ended_by = actor
    override.save(update_fields=["ended_at", "ended_by"])
    HealthScore.objects.filter(customer_id=override.customer_id, day=clock.today(), override=override).update(
        override=None
    )
    customer = Customer.objects.select_for_update().get(pk=override.customer_id)
    from_band = _shown(customer)
    customer.health_band = customer.health_real_band
    customer.health_score = customer.health_real_score
    if actor is not None:
        # Ended by the nightly run (no actor), the run writes the customer's health and announces its band.
        Customer.objects.filter(pk=customer.pk).update(
            health_band=customer.health_band, health_score=customer.health_score
        )
    if actor is None:
        title = _("Health override ended on its end date: %(band)s shows again") % {
            "band": _band_label(customer.health_band)
        }
    else:
        title = _("Health override ended: %(band)s shows again") % {"band": _band_label(customer.health_band)}
    _announce(
        customer,
        from_band=from_band,
        to_band=customer.health_band,
        title=title,
        body="",
        key=f"health-override-end:{override.pk}",
        # Ran out in the nightly run: the run itself announces the band the day shows.
        publish_change=actor is not None,
    )
    return override


def overrides_expire(day: date) -> int:
    """End the overrides whose ``ends_on`` is before ``day`` (part of the nightly run)."""
    ended = 0
    for override in HealthOverride.objects.filter(ended_at__isnull=True, ends_on__lt=day):
        override_end(override=override, actor=None)
        ended += 1
    return ended
