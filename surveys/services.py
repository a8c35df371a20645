"""Campaigns: create, activate and close. Whom they reach is surveys.audience; planning and sending are
surveys.planning and surveys.dispatch, answering surveys.answers."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import (
    campaigns_managed_filter,
    can_lead,
    can_manage_campaign_team,
    default_campaign_team,
    ensure_can_write,
)
from accounts.models import Team, User
from core import jobs
from surveys.models import Campaign, CampaignMode, CampaignStatus, EmployeeAudience, SurveyKind
from surveys.settings_selectors import survey_defaults
from surveys.tasks import campaign_run

DEFAULT_QUESTIONS = {
    SurveyKind.NPS: (
        "De 0 a 10, qual a probabilidade de você recomendar a {company} a um amigo ou colega?",
        "On a scale of 0 to 10, how likely are you to recommend {company} to a friend or colleague?",
    ),
    SurveyKind.ENPS: (
        "De 0 a 10, qual a probabilidade de você recomendar a {company} como um lugar para trabalhar?",
        "On a scale of 0 to 10, how likely are you to recommend {company} as a place to work?",
    ),
    SurveyKind.CSAT: (
        "Qual o seu nível de satisfação com o atendimento que você recebeu?",
        "How satisfied are you with the service you received?",
    ),
    SurveyKind.CES: (
        "A {company} facilitou resolver o que você precisava?",
        "{company} made it easy for me to get what I needed done.",
    ),
    SurveyKind.CHI: (
        "Responda sim ou não para cada critério abaixo.",
        "Answer yes or no to each criterion below.",
    ),
}

_DEFAULT_TEAM = object()

AUDIENCE_KEYS = {"segments", "stages", "service_models", "owners", "plan_tiers", "contact_roles", "employees"}


def _validate(campaign: Campaign) -> None:
    errors = {}
    unknown = set(campaign.audience) - AUDIENCE_KEYS
    if unknown:
        errors["audience"] = _("Unknown audience filters: %(keys)s.") % {"keys": ", ".join(sorted(unknown))}
    if campaign.audience.get("employees", EmployeeAudience.USERS) not in EmployeeAudience.values:
        errors["audience"] = _("eNPS asks Leme users, the imported list, or both.")
    if campaign.kind == SurveyKind.CSAT and campaign.scale_max not in (5, 10):
        errors["scale_max"] = _("CSAT is answered from 1 to 5 or from 1 to 10.")
    if campaign.mode == CampaignMode.AT and campaign.send_at is None:
        errors["send_at"] = _("Say when to send.")
    if campaign.mode == CampaignMode.RECURRING and not campaign.every_days:
        errors["every_days"] = _("Say every how many days each contact is asked again.")
    if campaign.mode == CampaignMode.TRANSACTIONAL and not campaign.trigger:
        errors["trigger"] = _("Say which event sends the survey.")
    if campaign.kind == SurveyKind.ENPS and campaign.mode == CampaignMode.TRANSACTIONAL:
        errors["mode"] = _("eNPS goes to employees, not after customer events.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_create(
    *,
    name: str,
    kind: str,
    actor: User | None,
    question_pt: str = "",
    question_en: str = "",
    audience: dict | None = None,
    mode: str = CampaignMode.NOW,
    send_at=None,
    every_days: int | None = None,
    trigger: str = "",
    fatigue_days: int | None = None,
    reminder_after_days: int | None = None,
    expires_after_days: int | None = None,
    scale_max: int = 10,
    company: str = "Leme",
    team: Team | None = _DEFAULT_TEAM,  # type: ignore[assignment]
) -> Campaign:
    """A campaign in draft; ``campaign_activate`` starts it. Questions default to the kind's standard.

    It belongs to ``team`` (by default the creator's team; company-wide for an admin): it will reach only that
    team's customers' contacts, or its people for eNPS. A leader creates campaigns for the teams they oversee
    only; company-wide ones (``team=None``) are for admins. PermissionDenied otherwise."""
    ensure_can_write(actor)
    if team is _DEFAULT_TEAM:
        team = default_campaign_team(actor)
    if actor is not None and not can_manage_campaign_team(actor, team):
        raise PermissionDenied(_("You run campaigns for your own team only; company-wide ones are for admins."))
    default_pt, default_en = DEFAULT_QUESTIONS[SurveyKind(kind)]
    # What is not said comes from the workspace's defaults (the Settings page), copied into the campaign.
    workspace = survey_defaults()
    campaign = Campaign(
        name=name,
        kind=kind,
        question_pt=question_pt or default_pt.format(company=company),
        question_en=question_en or default_en.format(company=company),
        audience={k: v for k, v in (audience or {}).items() if v},
        mode=mode,
        send_at=send_at,
        every_days=every_days,
        trigger=trigger,
        fatigue_days=workspace.fatigue_days if fatigue_days is None else fatigue_days,
        reminder_after_days=workspace.reminder_after_days if reminder_after_days is None else reminder_after_days,
        expires_after_days=workspace.expires_after_days if expires_after_days is None else expires_after_days,
        scale_max=scale_max if kind == SurveyKind.CSAT else (7 if kind == SurveyKind.CES else 10),
        created_by=actor,
        team=team,
    )
    _validate(campaign)
    campaign.full_clean(exclude=["created_by", "team"])
    campaign.save()
    return campaign


def fatigue_below_workspace(campaign: Campaign) -> bool:
    """Whether the campaign surveys contacts more often than the workspace's fatigue rule allows
    (``LEME_SURVEY_FATIGUE_DAYS``). eNPS asks employees, to whom the rule does not apply."""
    return campaign.kind != SurveyKind.ENPS and campaign.fatigue_days < settings.LEME_SURVEY_FATIGUE_DAYS


def _ensure_manages(actor: User | None, campaign: Campaign) -> None:
    """Leme itself (``None``) manages every campaign; a person those of their teams (admins: all)."""
    ensure_can_write(actor)
    if (
        actor is not None
        and not Campaign.objects.filter(pk=campaign.pk).filter(campaigns_managed_filter(actor)).exists()
    ):
        raise PermissionDenied(_("You manage your own team's campaigns only; company-wide ones are for admins."))


def campaign_activate(*, campaign: Campaign, actor: User | None, confirm_short_fatigue: bool = False) -> Campaign:
    """Start a campaign: "send now" queues the send at once; the others wait for their time or event.

    A campaign whose own fatigue rule is shorter than the workspace's asks customers again sooner than the
    team agreed: it starts only when a leader confirms it (``confirm_short_fatigue``)."""
    _ensure_manages(actor, campaign)
    if campaign.status == CampaignStatus.CLOSED:
        raise ValidationError(_("A closed campaign cannot start again."))
    if fatigue_below_workspace(campaign) and not (confirm_short_fatigue and (actor is None or can_lead(actor))):
        raise ValidationError(
            {
                "confirm_short_fatigue": _(
                    "This campaign surveys contacts again after %(days)s days, sooner than the workspace's "
                    "%(workspace)s: a leader must confirm it."
                )
                % {"days": campaign.fatigue_days, "workspace": settings.LEME_SURVEY_FATIGUE_DAYS}
            }
        )
    campaign.status = CampaignStatus.ACTIVE
    campaign.save(update_fields=["status"])
    if campaign.mode == CampaignMode.NOW:
        jobs.queue_on_commit(campaign_run, campaign.pk)
    return campaign


def campaign_close(*, campaign: Campaign, actor: User | None) -> Campaign:
    """Close a campaign: its links stop working and nothing more is sent."""
    _ensure_manages(actor, campaign)
    if campaign.status != CampaignStatus.CLOSED:
        campaign.status = CampaignStatus.CLOSED
        campaign.closed_at = timezone.now()
        campaign.save(update_fields=["status", "closed_at"])
    return campaign
