"""The CSM's part of the Customer Happiness Index: the criteria answered by the CSM, one assessment per
(campaign, customer), latest wins. The customer's part is their answer on the public page
(``surveys.answers.answer_record``); ``surveys.selectors_chi`` adds the two up."""

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import ensure_can_write
from accounts.models import User
from portfolio.models import Customer
from portfolio.selectors import customers_changeable_by, customers_of_team
from surveys.answers import yes_no
from surveys.models import COUNTED_FOR_FIELDS, Campaign, ChiAssessment, ChiCriterion, SurveyKind

logger = logging.getLogger(__name__)


def csm_criteria() -> list[ChiCriterion]:
    """The CHI criteria the CSM answers (the others are the customer's)."""
    return ChiCriterion.answered_by_(ChiCriterion.AnsweredBy.CSM)


def chi_answers_parse(answers: dict | None, criteria: list[ChiCriterion]) -> dict[str, int]:
    """``{"<position>": 1 or 0}`` for every CSM criterion. An unknown position, a customer's criterion, a value
    other than yes/no (0/1) or a missing criterion is refused with a ValidationError keyed ``answers``, or
    ``chi-<position>`` for the criterion at fault."""
    if not criteria:
        raise ValidationError({"answers": _("No CHI criterion is answered by the CSM.")})
    given = {str(k): v for k, v in (answers or {}).items()}
    by_position = {str(c.position): c for c in criteria}
    errors: dict[str, str] = {}
    unknown = sorted(set(given) - set(by_position), key=lambda p: (len(p), p))
    if unknown:
        errors["answers"] = _("These criteria are not answered by the CSM: %(positions)s.") % {
            "positions": ", ".join(unknown)
        }
    parsed: dict[str, int] = {}
    for position in by_position:
        raw = given.get(position)
        value = yes_no(raw)
        if value is not None:
            parsed[position] = value
        elif raw is None or raw == "":
            errors[f"chi-{position}"] = _("Answer yes or no.")
        else:
            errors[f"chi-{position}"] = _("Answer yes or no (1 or 0).")
    if errors:
        raise ValidationError(errors)
    return parsed


@transaction.atomic
def chi_assessment_record(
    *,
    campaign: Campaign,
    customer: Customer,
    answers: dict | None,
    actor: User,
    now: datetime | None = None,
) -> ChiAssessment:
    """Record the CSM's answers to the CSM criteria of a CHI campaign for one customer, or replace the previous
    ones (latest wins). Raises PermissionDenied for a read-only user, Customer.DoesNotExist (a 404 for pages)
    when the customer is outside what the actor may change, and ValidationError for a campaign that is not CHI
    or for answers that are not one yes/no per CSM criterion."""
    ensure_can_write(actor)
    # Another team's customer does not exist for the actor: the same answer as a page fetching it by id.
    customers = customers_changeable_by(actor)
    if campaign.team_id is not None:
        # A team's campaign is about that team's customers only.
        customers = customers.filter(pk__in=customers_of_team(campaign.team_id).values("pk"))
    customer = customers.get(pk=customer.pk)
    if campaign.kind != SurveyKind.CHI:
        raise ValidationError({"campaign": _("Only CHI campaigns have criteria answered by the CSM.")})
    parsed = chi_answers_parse(answers, csm_criteria())
    now = now or timezone.now()
    score = sum(parsed.values())
    assessment = ChiAssessment.objects.select_for_update().filter(campaign=campaign, customer=customer).first()
    if assessment is None:
        # Two CSMs saving at once: the unique constraint lets one insert; the other then updates.
        assessment, created = ChiAssessment.objects.get_or_create(
            campaign=campaign,
            customer=customer,
            defaults={
                "answers": parsed,
                "score": score,
                "answered_by": actor,
                "answered_at": now,
                "updated_at": now,
                **_counted_for(customer),
            },
        )
        if created:
            _log(assessment, updated=False)
            return assessment
    assessment.answers = parsed
    assessment.score = score
    assessment.answered_by = actor
    assessment.updated_at = now
    # The latest assessment is the CSM's current view, counted in the month it was given and for whom then.
    assessment.count_for(customer)
    assessment.save(update_fields=["answers", "score", "answered_by", "updated_at", *COUNTED_FOR_FIELDS])
    _log(assessment, updated=True)
    return assessment


def _counted_for(customer: Customer) -> dict:
    return {
        "csm_id": customer.owner_id,
        "segment": customer.segment,
        "service_model": customer.service_model,
        "plan_tier": customer.plan_tier,
    }


def _log(assessment: ChiAssessment, *, updated: bool) -> None:
    logger.info(
        "chi assessment recorded",
        extra={"assessment_id": assessment.pk, "campaign_id": assessment.campaign_id, "updated": updated},
    )
