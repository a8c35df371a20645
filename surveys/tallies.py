"""Survey tallies: the counts behind the results pages, rolled up ahead of time for large scopes.

A results page counts every answer and delivery in its scope, grouped by score, month, CSM, segment,
service model and plan. For a leader or an admin who sees tens of thousands of customers it is hundreds of
thousands of rows joined to the customers, several times a page: too slow to do on every view. Even a CSM's
thousand customers cost a scan of every answer of the kind (the door is on the customer), about 150 ms a page
at 50,000 customers.

So ``rebuild`` (a Celery beat job, every few minutes) rolls the customer surveys' answers and deliveries up
into ``AnswerTally`` and ``DeliveryTally``: one row per campaign, month, score (answers), the customer's
people as they are now (owner, ISM, farmer: who may see it) and the CSM, segment, service model and plan the
answer counts for (as they were when it was given, ``surveys.models._CountedFor``) — a few thousand rows for
50,000 customers. The tallies keep the people, so the one door (``accounts.access.visible_filter``) scopes them
exactly as it scopes customers, and slices and totals are rolled up from them as from the live rows.

Who reads them: results whose user sees at least ``LEME_SURVEY_TALLIES_FROM`` customers (by default 0:
everyone, since the door scopes the tallies exactly as it scopes the live rows), while the last
build is younger than ``LEME_SURVEY_TALLIES_MAX_AGE`` seconds (a stopped beat falls back to live counts);
the page then says when the figures were counted. Everyone else is counted live, and so is eNPS (a handful
of employees, and anonymous). A test proves both ways give the same results.

The rebuild replaces every row in one transaction: readers see the previous build until it commits.
"""

import logging
import time
from collections import Counter
from datetime import datetime, timedelta
from itertools import chain

from django.conf import settings
from django.db import transaction
from django.db.models import Count, DateField, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core.batches import bulk_create_in_batches
from portfolio.selectors import CUSTOMER_PEOPLE
from surveys.models import AnswerTally, ChiAssessment, Delivery, DeliveryTally, Response, SurveyKind, TallyBuild
from surveys.selectors_chi import combine_chi  # the one definition of a CHI score

logger = logging.getLogger(__name__)

# Kinds whose results may come from the tallies: the customer surveys. CHI's "answers" are each customer's
# combined score (their answer plus the CSM's assessment), counted in the month of its latest part.
KINDS = (SurveyKind.NPS, SurveyKind.CSAT, SurveyKind.CES, SurveyKind.CHI)
PEOPLE = CUSTOMER_PEOPLE  # the door reads the owner first (see accounts.access)
# Who may see a row: the customer's people now (the door); what it counts for: as it was when given.
_DOOR_KEYS = ("customer__owner_id", "customer__implementation_manager_id", "customer__farmer_id")
_COUNTED_FOR_KEYS = ("csm_id", "segment", "service_model", "plan_tier")
_KEYS = (*_DOOR_KEYS, *_COUNTED_FOR_KEYS)
_BATCH = 5000
# From an answer to the touch that closed its loop, added up per tally row (surveys.results.loop_close_stats
# adds it up the same way over the answers themselves).
LOOP_ELAPSED = ExpressionWrapper(F("loop_closed_at") - F("answered_at"), output_field=DurationField())


def _month(field: str) -> TruncMonth:
    return TruncMonth(field, output_field=DateField(), tzinfo=timezone.get_current_timezone())


def _keys(row: dict) -> dict:
    return {
        "campaign_id": row["campaign_id"],
        "month": row["month"],
        **{key.removeprefix("customer__"): row[key] for key in _KEYS},
    }


def _answer_rows():
    rows = (
        Response.objects.filter(kind__in=KINDS, customer__isnull=False)
        .exclude(kind=SurveyKind.CHI)
        .annotate(month=_month("answered_at"))
        .values("campaign_id", "month", *_KEYS, "score")
        .annotate(
            n=Count("pk"),
            closed=Count("pk", filter=Q(loop_closed_at__isnull=False)),
            loop_time=Sum(LOOP_ELAPSED, filter=Q(loop_closed_at__isnull=False)),
        )
        .order_by()
    )
    for row in rows.iterator(chunk_size=_BATCH):
        yield AnswerTally(
            **_keys(row), score=row["score"], answers=row["n"], loops_closed=row["closed"], loop_time=row["loop_time"]
        )


def _chi_rows():
    tz = timezone.get_current_timezone()
    scores = combine_chi(
        Response.objects.filter(kind=SurveyKind.CHI, customer__isnull=False),
        ChiAssessment.objects.filter(campaign__kind=SurveyKind.CHI),
        keys=_KEYS,
    )
    grouped: Counter = Counter()
    for chi in scores:
        month = timezone.localtime(chi.answered_at, tz).date().replace(day=1)
        grouped[(chi.campaign_id, month, *(chi.keys[k] for k in _KEYS), chi.score)] += 1
    for (campaign_id, month, *values, score), n in grouped.items():
        row = {"campaign_id": campaign_id, "month": month, **dict(zip(_KEYS, values, strict=True))}
        yield AnswerTally(**_keys(row), score=score, answers=n)


def _delivery_rows():
    sent = Q(sent_at__isnull=False)
    rows = (
        Delivery.objects.filter(campaign__kind__in=KINDS, customer__isnull=False)
        .annotate(month=_month("sent_at"))
        .values("campaign_id", "month", *_KEYS)
        .annotate(
            planned=Count("pk"),
            sent=Count("pk", filter=sent),
            answered=Count("pk", filter=sent & Q(response__isnull=False)),
        )
        .order_by()
    )
    for row in rows.iterator(chunk_size=_BATCH):
        yield DeliveryTally(**_keys(row), planned=row["planned"], sent=row["sent"], answered=row["answered"])


def rebuild(*, now: datetime | None = None) -> dict:
    """Count every customer survey again into the tallies, replacing the last build at once."""
    started = time.monotonic()
    with transaction.atomic():
        AnswerTally.objects.all().delete()
        DeliveryTally.objects.all().delete()
        answers = bulk_create_in_batches(AnswerTally, chain(_answer_rows(), _chi_rows()), _BATCH)
        deliveries = bulk_create_in_batches(DeliveryTally, _delivery_rows(), _BATCH)
        seconds = round(time.monotonic() - started, 3)
        TallyBuild.objects.update_or_create(pk=1, defaults={"built_at": now or timezone.now(), "seconds": seconds})
    logger.info("survey tallies rebuilt", extra={"answers": answers, "deliveries": deliveries, "seconds": seconds})
    return {"answer_rows": answers, "delivery_rows": deliveries, "seconds": seconds}


def fresh_build() -> TallyBuild | None:
    """The last build, if it is recent enough to be read (see LEME_SURVEY_TALLIES_MAX_AGE)."""
    build = TallyBuild.objects.filter(pk=1).first()
    max_age = timedelta(seconds=settings.LEME_SURVEY_TALLIES_MAX_AGE)
    if build is None or build.built_at < timezone.now() - max_age:
        return None
    return build
