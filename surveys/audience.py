"""Whom a campaign reaches, before the fatigue and opt-out rules: the customers' contacts its filters name,
and for eNPS the people of the team (Leme users, the imported list, or both).

A campaign of a team (``Campaign.team``) reaches only that team: its customers' contacts, as the door counts a
team's customers (``portfolio.selectors.customers_of_team``), or its people; a company-wide one (no team, made
by an admin) reaches everyone. :func:`deliveries_in_team` is the same bound for rows already planned: the send
and the reminders check it again, so a row written by hand for another team's contact is never emailed."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from accounts.models import User
from portfolio.models import Contact, Stage
from portfolio.selectors import customers_of_team
from surveys.models import Campaign, EmployeeAudience, EmployeeRecipient, SurveyKind


def audience_contacts(campaign: Campaign) -> QuerySet[Contact]:
    """The contacts a customer campaign reaches, before the fatigue and opt-out rules."""
    audience = campaign.audience
    qs = Contact.objects.exclude(customer__stage=Stage.CHURNED).filter(archived_at__isnull=True)
    if campaign.team_id is not None:
        qs = qs.filter(customer__in=customers_of_team(campaign.team_id).values("pk"))
    filters = {
        "segments": "customer__segment__in",
        "stages": "customer__stage__in",
        "service_models": "customer__service_model__in",
        "owners": "customer__owner_id__in",
        "plan_tiers": "customer__plan_tier__in",
        "contact_roles": "role__in",
    }
    for key, lookup in filters.items():
        if audience.get(key):
            qs = qs.filter(**{lookup: audience[key]})
    return qs.select_related("customer")


def audience_employees(campaign: Campaign) -> QuerySet[User]:
    """eNPS goes to every active person who uses Leme, of the campaign's team when it has one (people may be
    narrowed with ``owners``)."""
    qs = User.objects.filter(is_active=True)
    if campaign.team_id is not None:
        qs = qs.filter(team_id=campaign.team_id)
    if campaign.audience.get("owners"):
        qs = qs.filter(pk__in=campaign.audience["owners"])
    return qs


def employees_audience(campaign: Campaign) -> str:
    """``users`` (the default, and what campaigns made before the list existed do), ``list`` or ``both``."""
    value = campaign.audience.get("employees") or EmployeeAudience.USERS
    return value if value in EmployeeAudience.values else EmployeeAudience.USERS


def audience_recipients(campaign: Campaign) -> QuerySet[EmployeeRecipient]:
    """The active people of the imported list an eNPS campaign reaches. With "both", someone who is also a
    Leme user in the campaign's audience (same email, any case) is asked once, as the user."""
    mode = employees_audience(campaign)
    if campaign.kind != SurveyKind.ENPS or mode == EmployeeAudience.USERS:
        return EmployeeRecipient.objects.none()
    qs = EmployeeRecipient.objects.filter(active=True)
    if campaign.team_id is not None:
        qs = qs.filter(team_id=campaign.team_id)
    if mode == EmployeeAudience.BOTH:
        users = audience_employees(campaign).annotate(email_ci=Lower("email"))
        qs = qs.annotate(email_ci=Lower("email")).filter(~Exists(users.filter(email_ci=OuterRef("email_ci"))))
    return qs


def deliveries_in_team(campaign: Campaign) -> Q:
    """A filter for the campaign's deliveries that are within its team: a contact of one of the team's
    customers (through the contact itself, whatever the row's ``customer`` says), or one of its people.
    Everything for a company-wide campaign."""
    if campaign.team_id is None:
        return Q()
    customers = customers_of_team(campaign.team_id).values("pk")
    return (
        Q(contact__isnull=False, contact__customer__in=customers)
        | Q(employee__isnull=False, employee__team_id=campaign.team_id)
        | Q(recipient__isnull=False, recipient__team_id=campaign.team_id)
    )
