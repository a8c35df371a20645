import factory

from health.models import UsageEvent
from tests.portfolio.factories import CustomerFactory


class UsageEventFactory(factory.django.DjangoModelFactory):
    """A stored usage event, as if it had arrived long ago (retention and rollup tests set ``occurred_at``)."""

    class Meta:
        model = UsageEvent

    customer = factory.SubFactory(CustomerFactory)
    source_id = factory.Sequence(lambda n: f"evt-{n}")
    user_ref = "u-1"
    name = "login"
