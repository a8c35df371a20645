"""Factories for survey rows. Campaigns are created (and started) through surveys.services, so tests get
the same defaults and validation as the app; deliveries and answers that a test needs "in the past" are
rows, with a real token."""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import Role
from surveys import services, tokens
from surveys.models import Campaign, CampaignMode, Delivery, DeliveryStatus, Response
from tests.factories import UserFactory
from tests.portfolio.factories import ContactFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    """A draft campaign made by ``services.campaign_create``; ``activate()`` starts it."""

    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Pesquisa {n}")
    kind = "nps"
    mode = CampaignMode.NOW
    actor = factory.SubFactory(UserFactory, role=Role.ADMIN)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.campaign_create(**kwargs)


def activate(campaign: Campaign) -> Campaign:
    """Start the campaign through the service ("now" campaigns queue their run on commit), confirming a short
    fatigue rule as a leader would (the confirmation has its own tests)."""
    return services.campaign_activate(campaign=campaign, actor=None, confirm_short_fatigue=True)


def active_campaign(**kwargs) -> Campaign:
    return activate(CampaignFactory(**kwargs))


def _salt_and_hash() -> dict:
    salt, token_hash = tokens.salt_and_hash()
    return {"salt": salt, "hash": token_hash}


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A survey already sent to a contact (``sent_at`` in the past makes it count for fatigue and
    reminders). ``token_of(delivery)`` gives the token its email carried."""

    class Meta:
        model = Delivery
        exclude = ["secret"]

    campaign = factory.SubFactory(CampaignFactory)
    contact = factory.SubFactory(ContactFactory)
    employee = None
    team = factory.LazyAttribute(lambda o: o.employee.team if o.employee else None)
    customer = factory.LazyAttribute(lambda o: o.contact.customer if o.contact else None)
    # Counted for the customer's CSM, segment, service model and plan when sent, as planning does.
    csm = factory.LazyAttribute(lambda o: o.customer.owner if o.customer else None)
    segment = factory.LazyAttribute(lambda o: o.customer.segment if o.customer else "")
    service_model = factory.LazyAttribute(lambda o: o.customer.service_model if o.customer else "")
    plan_tier = factory.LazyAttribute(lambda o: o.customer.plan_tier if o.customer else "")
    email = factory.LazyAttribute(lambda o: o.contact.email if o.contact else o.employee.email)
    language = factory.LazyAttribute(lambda o: o.contact.language if o.contact else o.employee.language)
    secret = factory.LazyFunction(_salt_and_hash)
    token_salt = factory.LazyAttribute(lambda o: o.secret["salt"])
    token_hash = factory.LazyAttribute(lambda o: o.secret["hash"])
    status = DeliveryStatus.SENT
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(
        lambda o: o.sent_at + timedelta(days=o.campaign.expires_after_days) if o.sent_at else None
    )


def token_of(delivery: Delivery) -> str:
    return tokens.token_for(delivery.token_salt)


class ResponseFactory(factory.django.DjangoModelFactory):
    """An answer to a delivery."""

    class Meta:
        model = Response

    delivery = factory.SubFactory(DeliveryFactory)
    campaign = factory.LazyAttribute(lambda o: o.delivery.campaign)
    customer = factory.LazyAttribute(lambda o: o.delivery.customer)
    kind = factory.LazyAttribute(lambda o: o.delivery.campaign.kind)
    # Counted for the customer's CSM, segment, service model and plan when answered, as answer_record does.
    csm = factory.LazyAttribute(lambda o: o.customer.owner if o.customer else None)
    segment = factory.LazyAttribute(lambda o: o.customer.segment if o.customer else "")
    service_model = factory.LazyAttribute(lambda o: o.customer.service_model if o.customer else "")
    plan_tier = factory.LazyAttribute(lambda o: o.customer.plan_tier if o.customer else "")
    score = 9
