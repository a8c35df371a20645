"""Answering a survey: the public link, recording (and changing) an answer, opting out, and closing the loop
on a detractor.

The rules, in one place so the public page, a future API and the benchmark all obey them:

* a link names one delivery by its token (only the token's hash is stored); it works until the delivery
  expires or its campaign closes;
* an answer is validated against its kind's scale; answering again updates the same ``Response`` (the
  delivery row is locked while the answer is written, and the database allows one response per delivery);
* every answer goes on the customer's timeline, except eNPS, which is anonymous and never reaches one;
* a detractor answer is announced (``DetractorAnswered``); the "Detractor recovery" playbook gives it one
  follow-up task for the customer's CSM, due within two business days, and attaches it to the answer
  (:func:`follow_up_attach`); the next call, meeting or email the team logs with that contact closes the
  loop and completes the task.
"""

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.access import can_write
from accounts.models import User
from core.events import publish
from core.prepared import Prepared, PreparedInsert
from portfolio import services as portfolio_services
from portfolio.models import Activity, ActivityKind, Contact, Customer, Task, TaskStatus
from surveys import events, scoring, tokens
from surveys.models import CampaignStatus, ChiCriterion, Delivery, Response, SurveyKind

logger = logging.getLogger(__name__)

COMMENT_MAX_LENGTH = 5000
FOLLOW_UP_BUSINESS_DAYS = 2
DETRACTOR_ORIGIN = "detractor"
# The kind of timeline entry an answer makes (registered in SurveysConfig.ready()).
SURVEY_ACTIVITY = "survey"


# --- The link ---------------------------------------------------------------------------------------------


class LinkError(Exception):
    """A survey link that cannot be used. ``delivery`` is known unless the token named none."""

    status_code = 410

    def __init__(self, delivery: Delivery | None = None) -> None:
        super().__init__(type(self).__name__)
        self.delivery = delivery


class LinkUnknown(LinkError):
    """The token names no delivery: mistyped, truncated by a mail client, or made up."""

    status_code = 404


class LinkExpired(LinkError):
    """The delivery's link is past its expiry date."""


class CampaignClosed(LinkError):
    """The campaign was closed: its links stop working."""


class OptOutNotApplicable(Exception):
    """An eNPS delivery goes to an employee, not a customer's contact: there is no contact to opt out."""


def link_expires_at(delivery: Delivery) -> datetime:
    """When the link stops working. The sender sets ``expires_at``; a delivery without one (sent by an older
    version, or still being sent) falls back to the campaign's setting from when it was sent or created."""
    if delivery.expires_at is not None:
        return delivery.expires_at
    start = delivery.sent_at or delivery.created_at
    return start + timedelta(days=delivery.campaign.expires_after_days)


def _ensure_open(delivery: Delivery, now: datetime) -> None:
    if delivery.campaign.status == CampaignStatus.CLOSED:
        raise CampaignClosed(delivery)
    if link_expires_at(delivery) <= now:
        raise LinkExpired(delivery)


# What the answer page and its thanks page read of a delivery: its own dates and language, its campaign's kind,
# scale, question, expiry and status, its contact's name, and its answer. Building the query for every column of
# the five tables (about a hundred) took Django longer than PostgreSQL took to run it; these are about thirty.
PAGE_COLUMNS = (
    "campaign_id", "contact_id", "customer_id", "language", "email", "status", "sent_at", "created_at", "expires_at",
    "campaign__kind", "campaign__scale_max", "campaign__question_pt", "campaign__question_en",
    "campaign__expires_after_days", "campaign__status",
    "contact__name", "contact__opted_out_at",
    "response__kind", "response__score", "response__comment", "response__chi_answers", "response__follow_up_task_id",
)  # fmt: skip


# Each query's SQL is built once per connection (core.prepared): building it took Django about as long as PostgreSQL
# took to run it. The placeholders are values no real call passes.
_HASH = "<the token's hash>"
_PAGE_READ = Prepared(
    lambda h: (
        Delivery.objects.select_related("campaign", "contact", "response").only(*PAGE_COLUMNS).filter(token_hash=h)
    ),
    _HASH,
)
_WHOLE_READ = Prepared(
    lambda h: Delivery.objects.select_related("campaign", "contact", "customer", "response").filter(token_hash=h), _HASH
)
# Recording an answer: the delivery locked, whole (the answer counts for its customer as it is now), then its answer
# read once the lock is held, so that an answer written by whoever held it before is seen.
_LOCKED_READ = Prepared(
    lambda h: (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("campaign", "contact", "customer")
        .filter(token_hash=h)
    ),
    _HASH,
)
_LOCKED_READ_BY_ID = Prepared(
    lambda pk: (
        Delivery.objects.select_for_update(of=("self",)).select_related("campaign", "contact", "customer").filter(pk=pk)
    ),
    -1,
)
_RESPONSE_READ = Prepared(lambda pk: Response.objects.filter(delivery_id=pk), -1)
_RESPONSE_INSERT = PreparedInsert(Response)


def _hash_of(token: str) -> str:
    # A real token is 43 URL-safe characters; anything far off is not worth hashing.
    if not token or len(token) > 100:
        raise LinkUnknown()
    return tokens.token_hash(token)


def delivery_from_token(
    token: str, *, check_open: bool = True, now: datetime | None = None, page: bool = False
) -> Delivery:
    """The delivery a link's token names, with its campaign, contact, customer and any answer loaded; with
    ``page``, only what the answer and thanks pages show (``PAGE_COLUMNS``, and no customer): recording an
    answer reads the delivery again, whole, under its lock.

    Raises :class:`LinkUnknown` when no delivery has that token, and, unless ``check_open`` is false (opting
    out keeps working on old emails), :class:`LinkExpired` or :class:`CampaignClosed`.
    """
    try:
        delivery = (_PAGE_READ if page else _WHOLE_READ).get(_hash_of(token))
    except Delivery.DoesNotExist:
        raise LinkUnknown() from None
    if check_open:
        _ensure_open(delivery, now or timezone.now())
    return delivery


def response_of(delivery: Delivery) -> Response | None:
    """The delivery's answer, if it has one (``delivery_from_token`` has already loaded it)."""
    try:
        return delivery.response
    except Response.DoesNotExist:
        return None


# --- What the page asks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """The answers a kind of survey accepts: integers from ``low`` to ``high``."""

    low: int
    high: int

    @property
    def values(self) -> list[int]:
        return list(range(self.low, self.high + 1))


def scale_for(campaign) -> Scale:
    """NPS and eNPS 0–10, CSAT 1–5 or 1–10 (the campaign's setting), CES 1–7."""
    return Scale(campaign.scale_min, campaign.scale_top)


def chi_criteria() -> list[ChiCriterion]:
    """The CHI criteria the customer answers (the others are the CSM's)."""
    return ChiCriterion.answered_by_(ChiCriterion.AnsweredBy.CUSTOMER)


def yes_no(value) -> int | None:
    """A CHI criterion's answer as 1 or 0 (from a form, JSON or a stored value); None when it is neither."""
    if value in (1, "1", True, "yes"):
        return 1
    if value in (0, "0", False, "no"):
        return 0
    return None


def score_parse(raw, scale: Scale) -> int:
    """The score as an integer on the scale, or a ValidationError saying what is accepted."""
    message = _("Choose a score from %(low)s to %(high)s.") % {"low": scale.low, "high": scale.high}
    if isinstance(raw, bool) or raw is None:
        raise ValidationError({"score": message})
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        # int() would also take "+3", " 3", "٣" or "3_0"; a score is plain ASCII digits.
        if not (text.isascii() and text.isdigit()):
            raise ValidationError({"score": message})
        value = int(text)
    if not scale.low <= value <= scale.high:
        raise ValidationError({"score": message})
    return value


def _chi_parse(chi_answers: dict | None, criteria: list[ChiCriterion]) -> dict[str, int]:
    """``{"<position>": 1 or 0}`` for every customer criterion; anything missing or unclear is refused."""
    if not criteria:
        raise ValidationError({"chi": _("This survey has no questions yet.")})
    given = chi_answers or {}
    parsed = {}
    for criterion in criteria:
        value = yes_no(given.get(str(criterion.position), given.get(criterion.position)))
        if value is None:
            raise ValidationError({"chi": _("Answer yes or no for every statement.")})
        parsed[str(criterion.position)] = value
    return parsed


def category_of(kind: str, score: int, scale_top: int) -> str:
    """How the team reads one answer: detractor / passive / promoter for NPS, and the like for the others."""
    if scoring.is_detractor(kind, score):
        return "detractor"
    if kind in (SurveyKind.NPS, SurveyKind.ENPS):
        return "promoter" if score >= 9 else "passive"
    if kind == SurveyKind.CSAT:
        return "satisfied" if score >= scale_top - 1 else "neutral"
    if kind == SurveyKind.CES:
        return "easy" if score >= 5 else "neutral"
    return ""


def _category_label(category: str) -> str:
    return {
        "detractor": _("detractor"),
        "passive": _("passive"),
        "promoter": _("promoter"),
        "satisfied": _("satisfied"),
        "neutral": _("neutral"),
        "easy": _("easy"),
    }.get(category, "")


# --- Recording an answer ----------------------------------------------------------------------------------


def answer_record(
    *,
    delivery: Delivery | None = None,
    token: str = "",
    score: int | str | None,
    comment: str = "",
    chi_answers: dict | None = None,
    now: datetime | None = None,
    speak: Callable[[Delivery], str] | None = None,
) -> Response:
    """Record the answer to ``delivery``, or to the delivery a link's ``token`` names (the public page: the
    delivery is then read once, under its lock, and :class:`LinkUnknown` raised when the token names none), or
    update it when the person answers again. ``speak``, given the delivery, names the language the validation
    messages speak (the public page: the one chosen on the page, else the delivery's).

    ``score`` is checked against the kind's scale (a page passes the raw form value); for CHI it is ignored
    and computed as the number of "yes" in ``chi_answers`` (``{"<criterion position>": 1 or 0}``). Raises
    ValidationError (keyed ``score``, ``chi`` or ``comment``) for bad input and a :class:`LinkError` when the
    link no longer works. The answer is announced once committed; a detractor's follow-up task is created by
    the playbooks triggered by :class:`surveys.events.DetractorAnswered`.
    """
    now = now or timezone.now()
    token_hash = _hash_of(token) if delivery is None else ""
    # The language ``speak`` names holds until the transaction's commit has run what waits on it.
    with ExitStack() as language, transaction.atomic():
        # Lock the delivery: two taps, or two tabs, on the same link write one answer, one after the other.
        try:
            delivery = _LOCKED_READ.get(token_hash) if delivery is None else _LOCKED_READ_BY_ID.get(delivery.pk)
        except Delivery.DoesNotExist:
            raise LinkUnknown() from None
        if speak is not None:
            language.enter_context(translation.override(speak(delivery)))
        _ensure_open(delivery, now)
        return _answer_write(delivery, score=score, comment=comment, chi_answers=chi_answers, now=now)


def _answer_write(
    delivery: Delivery, *, score: int | str | None, comment: str, chi_answers: dict | None, now: datetime
) -> Response:
    campaign = delivery.campaign
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"comment": _("Please keep the comment under %(max)s characters.") % {"max": COMMENT_MAX_LENGTH}}
        )
    chi = {}
    if campaign.kind == SurveyKind.CHI:
        chi = _chi_parse(chi_answers, chi_criteria())
        score = sum(chi.values())
    else:
        score = score_parse(score, scale_for(campaign))

    customer = delivery.customer or (delivery.contact.customer if delivery.contact else None)
    if campaign.kind == SurveyKind.ENPS:
        customer = None
    try:
        response = _RESPONSE_READ.get(delivery.pk)  # one per delivery (the database says so)
    except Response.DoesNotExist:
        response = None
    previous_score = response.score if response else None
    if response is not None and (response.score, response.comment, response.chi_answers) == (score, comment, chi):
        # The same answer again (a double tap, a reload, a retrying client): nothing changed, so nothing is
        # written, announced or added to the customer's timeline.
        return response
    if response is None:
        response = Response(
            delivery=delivery,
            campaign=campaign,
            customer=customer,
            kind=campaign.kind,
            score=score,
            comment=comment,
            chi_answers=chi,
            answered_at=now,
            updated_at=now,
        )
        # The answer counts for the customer's CSM, segment and plan of today, the day it is given; answering
        # again later changes the answer, not whom it counts for (it keeps its ``answered_at`` too).
        response.count_for(customer)
        _RESPONSE_INSERT.save(response)
    else:
        response.score = score
        response.comment = comment
        response.chi_answers = chi
        response.updated_at = now
        response.save(update_fields=["score", "comment", "chi_answers", "updated_at"])

    answered_on = timezone.localdate(now)
    anonymous = campaign.kind == SurveyKind.ENPS
    publish(
        events.SurveyAnswerRecorded(
            response_id=response.pk,
            campaign_id=campaign.pk,
            kind=response.kind,
            score=score,
            previous_score=previous_score,
            customer_id=customer.pk if customer else None,
            contact_id=None if anonymous else delivery.contact_id,
            answered_on=answered_on,
        )
    )
    if customer is not None:
        _timeline_add(response=response, delivery=delivery, customer=customer, previous_score=previous_score)
        if scoring.is_detractor(response.kind, score) and response.follow_up_task_id is None:
            publish(
                events.DetractorAnswered(
                    response_id=response.pk,
                    campaign_id=campaign.pk,
                    kind=response.kind,
                    score=score,
                    customer_id=customer.pk,
                    contact_id=delivery.contact_id,
                    answered_on=answered_on,
                )
            )
    logger.info(
        "survey answer recorded",
        extra={"response_id": response.pk, "kind": response.kind, "updated": previous_score is not None},
    )
    return response


def _answer_title(response: Response, campaign, previous_score: int | None) -> str:
    kind_label = SurveyKind(response.kind).label
    if response.kind == SurveyKind.CHI:
        title = f"{kind_label} {response.score}/{len(response.chi_answers)}"
    elif response.kind in (SurveyKind.CSAT, SurveyKind.CES):
        title = f"{kind_label} {response.score}/{campaign.scale_top}"
    else:
        title = f"{kind_label} {response.score}"
    category = _category_label(category_of(response.kind, response.score, campaign.scale_top))
    if category:
        title = f"{title} — {category}"
    if previous_score is not None:
        title = _("%(title)s (changed from %(previous)s)") % {"title": title, "previous": previous_score}
    return title


def timeline_entry(*, response: Response, delivery: Delivery, previous_score: int | None = None) -> dict:
    """The customer's timeline entry for an answer (the keyword arguments of ``activity_log`` or of an
    ``Activity``): what the page shows and what the loop and the survey history read back. The timeline is
    read by the team, in the workspace's language, not the contact's."""
    with translation.override(settings.LANGUAGE_CODE):
        title = _answer_title(response, delivery.campaign, previous_score)
    if delivery.contact is not None:
        title = f"{title} · {delivery.contact.name}"
    return {
        "kind": SURVEY_ACTIVITY,
        "title": title,
        "body": response.comment,
        "happened_at": response.updated_at,
        "data": {
            "response": response.pk,
            "delivery": delivery.pk,
            "campaign": delivery.campaign_id,
            "kind": response.kind,
            "score": response.score,
            "previous_score": previous_score,
            "contact": delivery.contact_id,
        },
    }


def _timeline_add(*, response: Response, delivery: Delivery, customer: Customer, previous_score: int | None) -> None:
    entry = timeline_entry(response=response, delivery=delivery, previous_score=previous_score)
    portfolio_services.activity_log(customer=customer, author=None, **entry)


# --- Closing the loop -------------------------------------------------------------------------------------


def add_business_days(day: date, days: int) -> date:
    """``day`` plus ``days`` working days, skipping Saturdays and Sundays (holidays are not known)."""
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def detractor_follow_up(*, response_id: int, today: date | None = None) -> Task | None:
    """The follow-up task Leme wrote for a detractor answer before the "Detractor recovery" playbook took it
    over (origin ``detractor``), for the customer's CSM (or its ISM), due within two business days. Only the
    demo's history, dated before playbooks, still writes it. Safe to run twice: the origin key names the
    response."""
    today = today or timezone.localdate()
    with transaction.atomic():
        response = (
            Response.objects.select_for_update(of=("self",))
            .select_related("customer__owner", "customer__implementation_manager", "delivery__contact")
            .filter(pk=response_id)
            .first()
        )
        if response is None or response.customer is None or not scoring.is_detractor(response.kind, response.score):
            return None
        if response.follow_up_task_id is not None:
            return Task.objects.filter(pk=response.follow_up_task_id).first()
        customer = response.customer
        owner = customer.owner or customer.implementation_manager
        if owner is None:
            logger.warning("detractor answer without a CSM to follow up", extra={"response_id": response.pk})
            return None
        contact = response.delivery.contact
        with translation.override(owner.language or settings.LANGUAGE_CODE):
            title = _("Call back %(who)s (%(customer)s): %(kind)s %(score)s, detractor") % {
                "who": contact.name if contact else customer.name,
                "customer": customer.name,
                "kind": SurveyKind(response.kind).label,
                "score": response.score,
            }
            notes = response.comment or _("No comment was left with the answer.")
        task = portfolio_services.task_create(
            customer=customer,
            owner=owner,
            title=title,
            due_date=add_business_days(today, FOLLOW_UP_BUSINESS_DAYS),
            origin=DETRACTOR_ORIGIN,
            origin_key=f"survey-response:{response.pk}",
            notes=notes,
        )
        Response.objects.filter(pk=response.pk).update(follow_up_task_id=task.pk)
        return task


def follow_up_attach(*, response_id: int, task_id: int) -> bool:
    """Make ``task_id`` the follow-up of a detractor's answer (the task a playbook created for it), unless the
    answer already has one: closing the loop completes it and the survey pages count it. True if attached."""
    return bool(
        Response.objects.filter(pk=response_id, follow_up_task_id__isnull=True).update(follow_up_task_id=task_id)
    )


def open_loops_with(*, customer_id: int, contact_id: int | None, before: datetime):
    """The answers of ``contact_id`` at the customer whose loop a touch with that contact at ``before`` closes:
    detractor answers given before it and still open (and an answer changed away from detractor that still
    has its follow-up task). No contact, no loop: a touch with someone else at the customer closes nothing."""
    if contact_id is None:
        return Response.objects.none()
    return Response.objects.filter(
        customer_id=customer_id,
        delivery__contact_id=contact_id,
        loop_closed_at__isnull=True,
        answered_at__lte=before,
    ).filter(scoring.detractor_q() | Q(follow_up_task_id__isnull=False))


def touch_closes(*, customer_id: int, contact_id: int | None, happened_at: datetime) -> list[str]:
    """What logging a touch with the contact will do to survey loops, said for the page that logs it
    (registered in ``core.touches``): one sentence per answer whose loop it closes."""
    rows = open_loops_with(customer_id=customer_id, contact_id=contact_id, before=happened_at).select_related(
        "delivery__contact"
    )
    return [
        _("Loop closed: %(contact)s's %(kind)s %(score)s answer is followed up and its task is done.")
        % {"contact": r.delivery.contact.name, "kind": SurveyKind(r.kind).label, "score": r.score}
        for r in rows
    ]


@transaction.atomic
def loop_close_on_touch(*, customer_id: int, activity_id: int, author_id: int | None, contact_id: int | None) -> int:
    """A call, meeting or email logged with the contact who answered closes the loop on that contact's
    detractor answers given before the touch: ``loop_closed_at`` becomes the touch's time and their follow-up
    tasks are done. A touch with another contact of the customer closes nothing. Returns how many answers it
    closed. Runs after the touch is committed (portfolio's TouchLogged event)."""
    activity = Activity.objects.filter(pk=activity_id, customer_id=customer_id).first()
    if activity is None or contact_id is None or activity.contact_id != contact_id:
        return 0
    responses = list(
        open_loops_with(customer_id=customer_id, contact_id=contact_id, before=activity.happened_at).select_for_update()
    )
    if not responses:
        return 0
    Response.objects.filter(pk__in=[r.pk for r in responses]).update(loop_closed_at=activity.happened_at)
    author = User.objects.filter(pk=author_id).first() if author_id else None
    task_ids = [r.follow_up_task_id for r in responses if r.follow_up_task_id]
    for task in Task.objects.filter(pk__in=task_ids, status=TaskStatus.OPEN).select_related("owner"):
        actor = author if author is not None and can_write(author) else task.owner
        portfolio_services.task_complete(task=task, actor=actor)
    logger.info(
        "survey loop closed", extra={"customer_id": customer_id, "contact_id": contact_id, "responses": len(responses)}
    )
    return len(responses)


# --- Opting out -------------------------------------------------------------------------------------------


@transaction.atomic
def unsubscribe(*, delivery: Delivery, now: datetime | None = None) -> Contact:
    """The contact asks for no more surveys: from now on no campaign sends to them. Idempotent.

    Raises :class:`OptOutNotApplicable` for eNPS, which goes to employees and has no contact."""
    if delivery.contact_id is None:
        raise OptOutNotApplicable()
    contact = Contact.objects.select_for_update().select_related("customer").get(pk=delivery.contact_id)
    if contact.opted_out_at is not None:
        return contact
    now = now or timezone.now()
    portfolio_services.contact_update(contact=contact, actor=None, opted_out_at=now)
    with translation.override(settings.LANGUAGE_CODE):
        portfolio_services.activity_log(
            customer=contact.customer,
            kind=ActivityKind.SYSTEM,
            title=_("%(contact)s opted out of surveys") % {"contact": contact.name},
            author=None,
            happened_at=now,
            data={"contact": contact.pk, "delivery": delivery.pk},
        )
    logger.info("survey opt-out", extra={"contact_id": contact.pk, "delivery_id": delivery.pk})
    return contact
