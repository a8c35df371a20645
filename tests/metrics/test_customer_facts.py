"""Each customer's facts per period, the cohort members and the owners' cohort cells: derived tables written with
the rollups, equal to what the ledger says (the hand-checked story of ``conftest``), kept in step after subscription
changes, and caught by ``metrics_rebuild --check`` when they are not."""

from datetime import date

from metrics import cohorts, rollups, services
from metrics.facts import LedgerHistory
from metrics.models import CohortCell, CohortMember, CohortOwnerCell, CustomerFact
from metrics.periods import Period, PeriodKind
from portfolio import services as portfolio_services
from portfolio.models import Subscription
from tests.metrics.conftest import TODAY, R, at
from tests.portfolio.factories import subscribe

AUGUST = TODAY.replace(day=1)
Q2 = (date(2025, 4, 1), date(2025, 6, 1))


def fact(customer, start, end=None):
    return CustomerFact.objects.get(customer=customer, period_start=start, period_end=end or start)


def test_the_rebuild_stores_each_customers_facts_as_the_ledger_says(story, today):
    rollups.rebuild_all()

    beta = fact(story.beta, *Q2)  # 800 at the start, churns in April, comes back at 600 in June
    assert (beta.mrr_start_cents, beta.churn_cents, beta.reactivation_cents, beta.mrr_end_cents) == (
        800 * R, 800 * R, 600 * R, 600 * R,
    )  # fmt: skip
    assert beta.last_churn_month == date(2025, 4, 1)
    epsilon = fact(story.epsilon, *Q2)  # joins and churns within the quarter
    assert (epsilon.mrr_start_cents, epsilon.new_cents, epsilon.churn_cents, epsilon.mrr_end_cents) == (
        0, 400 * R, 400 * R, 0,
    )  # fmt: skip
    assert (epsilon.segment, epsilon.plan_tier) == ("smb", "essential")
    assert fact(story.zeta, date(2025, 6, 1)).owner_id == story.lucas.pk  # reassigned on 15 June: June stays Lucas's
    assert fact(story.zeta, date(2025, 7, 1)).owner_id == story.beatriz.pk
    eta = fact(story.eta, date(2025, 7, 1))
    assert (eta.churn_kind, eta.churn_reason.code) == ("voluntary", "missing-integration")
    # A customer with nothing at the start and no movement takes no part: Delta in February (a trial).
    assert not CustomerFact.objects.filter(customer=story.delta, period_start=date(2025, 2, 1)).exists()
    # Every period's rows are exactly the ledger's, customer by customer, and each period's rollups add them up.
    history = LedgerHistory()
    for period in rollups.periods_to_build():
        assert rollups.facts_differences(period, history.facts(period)) == []
        rows = CustomerFact.objects.filter(period_start=period.start, period_end=period.end)
        totals = rollups.stored_by_slice(period).values()
        assert sum(r.mrr_end_cents for r in rows) == sum(t.mrr_end_cents for t in totals)
        assert sum(r.churn_cents for r in rows) == sum(t.churn_cents for t in totals)


def test_the_cohort_members_and_owner_cells_are_the_ledgers(story, today):
    rollups.rebuild_all()

    members = {m.customer_id: (m.cohort, m.owner_id) for m in CohortMember.objects.all()}
    assert members[story.alfa.pk] == (date(2025, 1, 1), story.lucas.pk)
    assert members[story.delta.pk] == (date(2025, 4, 1), story.lucas.pk)  # its first paid month, not the trial
    assert members[story.gama.pk] == (date(2025, 3, 1), story.beatriz.pk)
    assert members[story.zeta.pk] == (date(2025, 1, 1), story.lucas.pk)  # month 0's owner, for the whole row
    assert len(members) == 8
    # January's cohort (Alfa, Zeta, Eta, Teta), all Lucas's, in July (age 6): Eta and Teta churned.
    july = CohortOwnerCell.objects.get(cohort=date(2025, 1, 1), age=6, owner=story.lucas)
    assert (july.customers, july.mrr_cents) == (2, (1000 + 600) * R)
    for cell in CohortOwnerCell.objects.all():
        slices = CohortCell.objects.filter(cohort=cell.cohort, age=cell.age, owner_id=cell.owner_id)
        assert (cell.customers, cell.mrr_cents) == (
            sum(s.customers for s in slices),
            sum(s.mrr_cents for s in slices),
        )
    assert cohorts.check(last=AUGUST, history=LedgerHistory()) == []


def test_after_subscription_changes_the_refresh_keeps_them_equal_to_the_ledger(story, today):
    rollups.rebuild_all()
    in_june = CustomerFact.objects.filter(period_start=date(2025, 6, 1), period_end=date(2025, 6, 1))
    june = set(in_june.values_list("pk"))

    # Alfa expands in August; Gama (annual) cancels in July.
    subscribe(story.alfa, 200 * R, start=date(2025, 8, 2), product="API")
    gama = Subscription.objects.get(customer=story.gama)
    with at(date(2025, 7, 20)):
        portfolio_services.subscription_cancel(subscription=gama, actor=None, end_date=date(2025, 7, 20))
    services.rollups_mark_stale(day=date(2025, 7, 20))
    services.rollups_mark_stale(day=date(2025, 8, 2))
    services.rollups_refresh()

    alfa = fact(story.alfa, AUGUST)
    assert (alfa.expansion_cents, alfa.mrr_end_cents) == (200 * R, 1200 * R)
    gama_july = fact(story.gama, date(2025, 7, 1))
    assert (gama_july.churn_cents, gama_july.mrr_end_cents, gama_july.last_churn_month) == (
        1000 * R, 0, date(2025, 7, 1),
    )  # fmt: skip
    assert fact(story.gama, date(2025, 7, 1), AUGUST).churn_cents == 1000 * R  # the running quarter
    assert set(in_june.values_list("pk")) == june  # June was not rebuilt
    report = rollups.check()
    assert report.ok, report.differences[:5]


def test_the_check_finds_a_customers_facts_or_membership_that_differ(story, today):
    rollups.rebuild_all()
    assert rollups.check().ok

    CustomerFact.objects.filter(customer=story.beta, period_start=date(2025, 4, 1), period_end=date(2025, 4, 1)).update(
        churn_cents=1
    )
    CohortMember.objects.filter(customer=story.alfa).update(cohort=date(2025, 2, 1))
    report = rollups.check()

    assert not report.ok
    assert any(f"customer {story.beta.pk}:" in line and "2025-04..2025-04" in line for line in report.differences)
    assert any(f"customer {story.alfa.pk}:" in line and "cohort member" in line for line in report.differences)


def test_the_embedded_run_writes_the_same_rows_from_python(story, today):
    rollups.rebuild_all()
    period = Period(PeriodKind.QUARTER, *Q2)
    columns = ["customer_id", "owner_id", "mrr_start_cents", "mrr_end_cents", "churn_cents", "churn_kind"]
    from_sql = sorted(
        CustomerFact.objects.filter(period_start=period.start, period_end=period.end).values_list(*columns)
    )

    rollups.build_period_from_history(period, LedgerHistory())

    assert from_sql
    assert (
        sorted(CustomerFact.objects.filter(period_start=period.start, period_end=period.end).values_list(*columns))
        == from_sql
    )
