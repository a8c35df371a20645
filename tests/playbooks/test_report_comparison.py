"""The report's comparison group: for a play started by health turning red, the customers it ran on beside the
customers of its team who turned red without it (held back by the cool-down, or before the playbook existed),
each read 30 and 90 days later, on a small history computed by hand."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import clock
from health.models import HealthProfileVersion, HealthScore
from playbooks import selectors
from playbooks.audience import audience_q, in_audience_on
from playbooks.models import Playbook, Run, RunStatus
from playbooks.selectors import comparisons_of, playbook_report
from portfolio import services as portfolio_services
from portfolio.models import Customer, Stage
from tests.playbooks.factories import live_playbook, task_step
from tests.portfolio.factories import CustomerFactory, hand_off, subscribe

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
CREATED = date(2026, 3, 1)


def _at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _scores(customer, *days_bands) -> None:
    """The nightly scores health wrote for ``customer``: (day, band) pairs."""
    version = HealthProfileVersion.objects.order_by("pk").first()
    for day, band in days_bands:
        HealthScore.objects.create(
            customer=customer, day=day, score=80 if band == "green" else 30, band=band, profile_version=version,
            measures={}, computed_at=_at(day, 3),
        )  # fmt: skip


def _turned(customer, day: date, to: str = "red") -> None:
    """The health timeline entry of a band change, as the nightly score writes it."""
    portfolio_services.activity_log(
        customer=customer,
        kind="health",
        title=f"Saúde: amarelo → {to}",
        author=None,
        happened_at=_at(day, 3),
        data={"day": day.isoformat(), "from": "yellow", "to": to},
    )


def _run(playbook, customer, started: date, *, ended: date | None = None) -> Run:
    return Run.objects.create(
        playbook=playbook,
        version=playbook.live_version,
        customer=customer,
        status=RunStatus.COMPLETED if ended else RunStatus.ACTIVE,
        started_at=_at(started),
        ended_at=_at(ended) if ended else None,
        trigger_key=f"band:{started.isoformat()}:red",
    )


def _churned(customer, on: date) -> None:
    Customer.objects.filter(pk=customer.pk).update(stage=Stage.CHURNED, stage_changed_at=_at(on))


@pytest.fixture
def history(org):
    """With the playbook (runs), read 30 days later: p1 green, p2 red, p3 green, p5 red and churned (4 old
    enough; p4 too recent) → 2 of 4 green, 3 of 4 not churned; 90 days later: p1 and p2 green (2 of 2).
    Without it: o1 turned red before the playbook existed (green at 30 days, red at 90), o2 too (red, churned
    at 20 days), o3 is p1's customer turning red again in the cool-down after its run (red at 30 days, not 90
    days old) → at 30 days 1 of 3 green, 2 of 3 not churned; at 90 days 0 of 2 green, 1 of 2 not churned.
    Left out: a red day the playbook took (p2's), a customer who turned red after the playbook existed with no
    cool-down holding them back, a turn to yellow, and another team's customer."""
    playbook = live_playbook(
        team=org.team_a, trigger_kind="health_band_changed", trigger_params={"band": "red"}, steps=[task_step()]
    )
    Playbook.objects.filter(pk=playbook.pk).update(created_at=_at(CREATED), cooldown_days=30)
    playbook.refresh_from_db()
    p1, p2, p3, p4, p5 = (CustomerFactory(owner=org.csm_a) for _ in range(5))
    _run(playbook, p1, date(2026, 3, 5), ended=date(2026, 3, 20))
    _scores(p1, (date(2026, 4, 1), "green"), (date(2026, 5, 1), "red"), (date(2026, 6, 1), "green"))
    _turned(p2, date(2026, 3, 10))
    _run(playbook, p2, date(2026, 3, 10))
    _scores(p2, (date(2026, 4, 5), "red"), (date(2026, 6, 8), "green"))
    _run(playbook, p3, date(2026, 5, 1))
    _scores(p3, (date(2026, 5, 30), "green"))
    _run(playbook, p4, date(2026, 5, 20))
    _scores(p4, (date(2026, 6, 1), "green"))
    _run(playbook, p5, date(2026, 4, 10), ended=date(2026, 4, 25))
    _scores(p5, (date(2026, 4, 12), "red"))
    _churned(p5, date(2026, 4, 25))

    o1, o2 = CustomerFactory(owner=org.csm_a2), CustomerFactory(owner=org.csm_a)
    _turned(o1, date(2026, 1, 5), to="yellow")
    _turned(o1, date(2026, 1, 10))
    _scores(o1, (date(2026, 2, 5), "green"), (date(2026, 4, 1), "red"))
    _turned(o2, date(2026, 2, 1))
    _scores(o2, (date(2026, 2, 10), "red"))
    _churned(o2, date(2026, 2, 20))
    _turned(p1, date(2026, 4, 5))  # o3: within the 30 days after p1's run ended on 20 March

    outside = CustomerFactory(owner=org.csm_a)
    _turned(outside, date(2026, 4, 1))
    _scores(outside, (date(2026, 5, 1), "green"))
    theirs = CustomerFactory(owner=org.csm_b)
    _turned(theirs, date(2026, 2, 1))
    _scores(theirs, (date(2026, 3, 1), "green"))
    return playbook


def _figures(group):
    return (group.count, group.green.count, group.not_churned.count)


def test_the_comparison_reads_both_groups_30_and_90_days_later(org, history):
    with clock.at(_at(TODAY)):
        thirty, ninety = comparisons_of(org.leader_a, history)

    assert (thirty.days, _figures(thirty.played), _figures(thirty.others)) == (30, (4, 2, 3), (3, 1, 2))
    assert (ninety.days, _figures(ninety.played), _figures(ninety.others)) == (90, (2, 2, 2), (2, 0, 1))
    assert (thirty.played.green.percent, thirty.others.green.percent) == (50, 33)
    assert (thirty.played.not_churned.percent, thirty.others.not_churned.percent) == (75, 67)
    assert (thirty.enough, ninety.enough) == (False, False)  # under 10 customers a group: too few to compare


def test_the_page_says_too_few_to_compare_and_claims_no_share(org, client_for, history):
    with clock.at(_at(TODAY)):
        page = client_for(org.leader_a).get(reverse("playbooks:detail", args=[history.pk]))

    html = page.content.decode()
    table = html.split('id="report-comparison"')[1].split("</table>")[0]
    assert table.count("Poucos para comparar") == 2
    assert "%" not in table
    assert "2 de 4" in table  # the counts, still


def test_with_enough_customers_the_page_shows_each_share_with_its_counts(org, client_for, history, monkeypatch):
    monkeypatch.setattr(selectors, "OUTCOME_MIN_RUNS", 2)
    with clock.at(_at(TODAY)):
        page = client_for(org.leader_a).get(reverse("playbooks:detail", args=[history.pk]))

    table = page.content.decode().split('id="report-comparison"')[1].split("</table>")[0]
    cells = [" ".join(cell.split()) for cell in re.findall(r"<td>(.*?)</td>", table, flags=re.S)]
    shares = [re.sub(r"<[^>]+>", " ", cell).split() for cell in cells]
    assert [" ".join(share) for share in shares] == [
        "50% 2 de 4", "75% 3 de 4",  # 30 days, with the playbook: green, not churned
        "33% 1 de 3", "67% 2 de 3",  # 30 days, without it
        "100% 2 de 2", "100% 2 de 2",  # 90 days, with the playbook
        "0% 0 de 2", "50% 1 de 2",  # 90 days, without it
    ]  # fmt: skip
    assert "Poucos para comparar" not in table


def test_the_door_and_the_team_another_leader_sees_none_of_team_a(org, history):
    with clock.at(_at(TODAY)):
        thirty, _ninety = comparisons_of(org.leader_b, history)
        admin_thirty, _ = comparisons_of(org.admin, history)

    assert (thirty.played.count, thirty.others.count) == (0, 0)
    # the admin sees every customer, but only the playbook's team counts: team B's red day is left out
    assert (admin_thirty.played.count, admin_thirty.others.count) == (4, 3)


def test_the_comparison_reads_in_a_fixed_number_of_queries(org, history, django_assert_num_queries):
    # the report's four (runs, steps, tasks, emails) and the comparison's seven (runs, band changes, spans;
    # the audience then: customers, stage changes, the MRR ledger, subscriptions)
    with clock.at(_at(TODAY)), django_assert_num_queries(11):
        small = playbook_report(org.leader_a, history)
    for n in range(4):
        customer = CustomerFactory(owner=org.csm_a)
        _turned(customer, date(2026, 2, 1) + timedelta(days=n))
        _run(history, CustomerFactory(owner=org.csm_a), date(2026, 4, 1) + timedelta(days=n))
    with clock.at(_at(TODAY)), django_assert_num_queries(11):
        bigger = playbook_report(org.leader_a, history)
    assert (small.comparisons[0].others.count, bigger.comparisons[0].others.count) == (3, 7)
    assert (small.comparisons[0].played.count, bigger.comparisons[0].played.count) == (4, 8)


# --- The comparison group is the playbook's audience, as it was on the day ----------------------------------


def _customer(org, *, segment: str, mrr_cents: int, ongoing_from: date | None) -> Customer:
    """A customer of csm_a since October 2025 (its MRR ledger notes the segment then), handed off to ongoing on
    ``ongoing_from`` (or still onboarding)."""
    start = date(2025, 10, 1)
    with clock.at(_at(start)):
        customer = CustomerFactory(owner=org.csm_a, segment=segment, start_date=start)
        subscribe(customer, amount_cents=mrr_cents, start=start)
    if ongoing_from:
        with clock.at(_at(ongoing_from)):
            hand_off(customer, org.csm_a, held_on=ongoing_from)
    return customer


def test_the_comparison_group_counts_only_who_was_in_the_audience_on_the_day_they_turned_red(org):
    """A play for ongoing mid-market customers of R$ 1.000 a month or more, created on 1 March. Four customers
    turned red on 1 February, before it existed, each green 20 days later:

    * a: ongoing, mid-market, R$ 1.500 that day (moved to SMB since): in the audience then → counted;
    * b: ongoing, mid-market, R$ 500 that day (R$ 2.000 since April): below the MRR floor then → left out;
    * c: mid-market, R$ 1.500, but still onboarding that day (handed off on 10 March) → left out;
    * d: ongoing, R$ 1.500, but SMB that day (mid-market since) → left out.

    Read today (15 June): at 30 and at 90 days, 1 customer without the playbook, green, not churned. Judged by
    what they are now, the group would have been b, c and d."""
    playbook = live_playbook(
        team=org.team_a,
        trigger_kind="health_band_changed",
        trigger_params={"band": "red"},
        steps=[task_step()],
        segments=["mid"],
        stages=["ongoing"],
        mrr_min_cents=100_000,
    )
    Playbook.objects.filter(pk=playbook.pk).update(created_at=_at(CREATED))
    playbook.refresh_from_db()
    a = _customer(org, segment="mid", mrr_cents=150_000, ongoing_from=date(2025, 11, 3))
    b = _customer(org, segment="mid", mrr_cents=50_000, ongoing_from=date(2025, 11, 3))
    c = _customer(org, segment="mid", mrr_cents=150_000, ongoing_from=date(2026, 3, 10))
    d = _customer(org, segment="smb", mrr_cents=150_000, ongoing_from=date(2025, 11, 3))
    with clock.at(_at(date(2026, 4, 1))):
        portfolio_services.subscription_change(
            subscription=b.subscriptions.get(), actor=None, effective_date=date(2026, 4, 1), amount_cents=200_000
        )
    Customer.objects.filter(pk=a.pk).update(segment="smb")
    Customer.objects.filter(pk=d.pk).update(segment="mid")
    for customer in (a, b, c, d):
        _turned(customer, date(2026, 2, 1))
        _scores(customer, (date(2026, 2, 21), "green"))
    # what they are now: b, c and d are in the audience, a is not
    now = Customer.objects.filter(pk__in=[a.pk, b.pk, c.pk, d.pk]).filter(audience_q(playbook.live_version))
    assert set(now.values_list("pk", flat=True)) == {b.pk, c.pk, d.pk}

    with clock.at(_at(TODAY)):
        thirty, ninety = comparisons_of(org.leader_a, playbook)

    assert (_figures(thirty.others), _figures(ninety.others)) == ((1, 1, 1), (1, 1, 1))
    assert (_figures(thirty.played), _figures(ninety.played)) == ((0, 0, 0), (0, 0, 0))
    assert in_audience_on(playbook.live_version, {(x.pk, date(2026, 2, 1)) for x in (a, b, c, d)}) == {
        (a.pk, date(2026, 2, 1))
    }
