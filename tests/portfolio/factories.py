"""Factories for portfolio rows. Journey state (stages, handoffs, churn) is reached through the services,
never by setting fields, so tests exercise the same rules as the app."""

import factory

from core import clock
from portfolio import services
from portfolio.models import Contact, ContactRole, Customer, ImportJob, ImportJobStatus, ServiceModel


class CustomerFactory(factory.django.DjangoModelFactory):
    """A customer created through ``services.customer_create`` (onboarding, milestones, timeline)."""

    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Cliente {n} Ltda")
    service_model = ServiceModel.HIGH_TOUCH
    segment = "mid"
    plan_tier = "pro"
    owner = None
    implementation_manager = None
    start_date = factory.LazyFunction(clock.today)  # the test's day under clock.at, not the machine's

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.customer_create(actor=None, **kwargs)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name", locale="pt_BR")
    email = factory.Sequence(lambda n: f"contato{n}@cliente.com.br")
    role = ContactRole.USER


class ImportJobFactory(factory.django.DjangoModelFactory):
    """A large import already written by its job (``portfolio.imports.import_job_run`` runs real ones)."""

    class Meta:
        model = ImportJob

    kind = "customers"
    text = "external_id,name\nCLI-1,Farmácia Central\n"
    rows = 1
    status = ImportJobStatus.DONE
    result = factory.LazyFunction(lambda: {"counts": {"create": 1, "update": 0, "unchanged": 0}})


def subscribe(customer, amount_cents=100_000, start=None, **kwargs):
    """Give a customer a monthly subscription through the service (records the MRR movement)."""
    return services.subscription_create(
        customer=customer,
        product=kwargs.pop("product", "Leme CRM"),
        amount_cents=amount_cents,
        start_date=start or customer.start_date,
        actor=None,
        **kwargs,
    )


def hand_off(customer, to_user, actor=None, **kwargs):
    """Complete the handoff so the customer is ongoing with ``to_user`` as its CSM."""
    defaults = {
        "results": "Primeiros 50 leads importados e funil configurado",
        "goals": "Dobrar a conversão do funil em 6 meses",
        "stakeholders": "Ana (diretora comercial, decisora); Bruno (champion)",
        "channel": "meeting",
        "held_on": clock.today(),
        # Tests of other steps hand off customers whatever their milestones; the warning has its own tests.
        "confirm_unreached": True,
    }
    return services.handoff_complete(
        customer=customer, to_user=to_user, actor=actor or to_user, **{**defaults, **kwargs}
    )


def play_tasks(trigger_key: str):
    """The tasks of the playbook run an occurrence started (``churn_request:<id>``,
    ``delinquency:<subscription>:<since>``): the default playbooks "Churn request" and "Overdue payment" create
    the work portfolio's events call for."""
    from playbooks.models import Run
    from portfolio.models import Task

    run = Run.objects.get(trigger_key=trigger_key)
    return Task.objects.filter(origin_key__startswith=f"playbook:{run.pk}:").order_by("origin_key")


def churn_task(churn_request):
    """The task the "Churn request" playbook gave for ``churn_request`` (its only step)."""
    return play_tasks(f"churn_request:{churn_request.pk}").get()
