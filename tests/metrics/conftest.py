"""A hand-checked story of eight customers from January to August 2025 (today is 15 August 2025).

Month-end MRR, in R$ (×100 cents), with the movement of each month:

| customer | owner at start | Jan    | Feb   | Mar      | Apr     | May        | Jun       | Jul           | Aug  |
| Alfa     | Lucas          | 1000 n | 1000  | 1500 exp | 1500    | 1000 contr | 1000      | 1000          | 1000 |
| Beta     | Lucas          |        | 800 n | 800      | 0 churn | 0          | 600 react | 600           | 600  |
| Gama     | Beatriz        |        |       | 1000 n   | 1000    | 1000       | 1000      | 1000          | 1000 |
| Delta    | Lucas          |        | 0     | 0        | 700 n   | 700        | 700       | 700           | 700  |
| Épsilon  | Lucas          |        |       |          | 400 n   | 0 churn    |           |               |      |
| Zeta     | Lucas, Beatriz | 900 n  | 900   | 900      | 900     | 900        | 600 contr | 600           | 600  |
| Eta      | Lucas          | 500 n  | 500   | 500      | 500     | 500        | 500       | 0 churn (vol) |      |
| Teta     | Lucas          | 300 n  | 300   | 300      | 300     | 300        | 300       | 0 churn (inv) |      |

Alfa's March expansion is a second subscription, ended in May (a contraction, not a churn). Beta churns
and comes back (reactivation). Gama pays R$ 12.000 a year (an annual plan). Delta tries for two months
before paying. Épsilon joins and churns within the second quarter. Zeta is reassigned to Beatriz on
15 June: June stays Lucas's. Eta churns voluntarily, Teta involuntarily (non-payment).
"""

from datetime import date, datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from core import clock
from portfolio import services
from portfolio.models import ChurnCategory, ChurnKind, ChurnOutcome, ChurnReason, OwnershipPeriod, ServiceModelPolicy
from portfolio.taxonomy import install_defaults
from tests.portfolio.factories import CustomerFactory, subscribe

TODAY = date(2025, 8, 15)
R = 100  # cents per real


def at(day: date, hour: int = 10):
    return clock.at(datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone()))


def customer(name, owner, start, **kwargs):
    with at(start):
        created = CustomerFactory(name=name, owner=owner, start_date=start, **kwargs)
    # The first ownership period starts when the customer started, as an import of its history would say.
    OwnershipPeriod.objects.filter(customer=created).update(
        started_at=datetime(start.year, start.month, start.day, tzinfo=timezone.get_current_timezone())
    )
    return created


def churn(customer, *, kind, asked, effective, actor):
    code = "invoice-unpaid" if kind == ChurnKind.INVOLUNTARY else "missing-integration"
    with at(asked):
        request = services.churn_request_open(
            customer=customer,
            kind=kind,
            reason=ChurnReason.objects.get(code=code),
            detail="Precisa de integração com o SAP B1; o novo CFO cortou ferramentas sem ela",
            actor=actor,
            requested_on=asked,
        )
    with at(effective):
        services.churn_request_resolve(
            churn_request=request, outcome=ChurnOutcome.CHURNED, actor=actor, effective_date=effective
        )


@pytest.fixture
def story(org):
    # The churn reasons come from a data migration; a browser test run before this one on a reused database
    # leaves them emptied.
    install_defaults(ChurnCategory, ChurnReason, ServiceModelPolicy)
    lucas, beatriz = org.csm_a, org.csm_a2
    c = SimpleNamespace(lucas=lucas, beatriz=beatriz, org=org)

    c.alfa = customer("Alfa", lucas, date(2025, 1, 10))
    subscribe(c.alfa, 1000 * R, start=date(2025, 1, 10))
    add_on = subscribe(c.alfa, 500 * R, start=date(2025, 3, 5), product="BI")
    with at(date(2025, 5, 20)):
        services.subscription_cancel(subscription=add_on, actor=None, end_date=date(2025, 5, 20))

    c.beta = customer("Beta", lucas, date(2025, 2, 1))
    first = subscribe(c.beta, 800 * R, start=date(2025, 2, 1))
    with at(date(2025, 4, 10)):
        services.subscription_cancel(subscription=first, actor=None, end_date=date(2025, 4, 10))
    with at(date(2025, 6, 3)):
        subscribe(c.beta, 600 * R, start=date(2025, 6, 3))

    c.gama = customer(
        "Gama", beatriz, date(2025, 3, 1), segment="enterprise", plan_tier="business", service_model="low"
    )
    subscribe(c.gama, 12_000 * R, start=date(2025, 3, 1), billing_period="annual")

    c.delta = customer("Delta", lucas, date(2025, 2, 1))
    subscribe(c.delta, 500 * R, start=date(2025, 2, 1), end_date=date(2025, 4, 1), status="trial")
    subscribe(c.delta, 700 * R, start=date(2025, 4, 1))

    c.epsilon = customer("Épsilon", lucas, date(2025, 4, 5), segment="smb", plan_tier="essential")
    only = subscribe(c.epsilon, 400 * R, start=date(2025, 4, 5))
    with at(date(2025, 5, 15)):
        services.subscription_cancel(subscription=only, actor=None, end_date=date(2025, 5, 15))

    c.zeta = customer("Zeta", lucas, date(2025, 1, 1))
    zeta_sub = subscribe(c.zeta, 900 * R, start=date(2025, 1, 1))
    with at(date(2025, 6, 15)):
        services.customers_reassign(customers=[c.zeta], to_owner=beatriz, actor=org.leader_a)
    with at(date(2025, 6, 20)):
        services.subscription_change(
            subscription=zeta_sub, actor=None, effective_date=date(2025, 6, 20), amount_cents=600 * R
        )

    c.eta = customer("Eta", lucas, date(2025, 1, 1))
    subscribe(c.eta, 500 * R, start=date(2025, 1, 1))
    churn(c.eta, kind=ChurnKind.VOLUNTARY, asked=date(2025, 7, 2), effective=date(2025, 7, 10), actor=lucas)

    c.teta = customer("Teta", lucas, date(2025, 1, 1))
    subscribe(c.teta, 300 * R, start=date(2025, 1, 1))
    churn(c.teta, kind=ChurnKind.INVOLUNTARY, asked=date(2025, 7, 5), effective=date(2025, 7, 20), actor=lucas)

    # Bring every ledger up to today (services synced each customer at the moment of its change).
    from portfolio import ledger
    from portfolio.models import Customer

    for row in Customer.objects.all():
        ledger.sync_customer(row, today=TODAY)
    return c


@pytest.fixture
def today():
    with at(TODAY):
        yield TODAY
