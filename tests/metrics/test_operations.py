"""CS operations per person, on a small history built by hand (today is 15 August 2025; the period is July 2025,
so the figures are as of 31 July). High-touch: first value within 10 days, first success within 45, a success
review every 3 months. Tech-touch has no review cadence.

Onboarding (ISM Juliana):
| customer | start | first value target | reached        |                                   |
| Aurora   | 25/06 | 05/07              | 03/07 (8 days) | due and reached in July, on time  |
| Brisa    | 28/06 | 08/07              | 20/07 (22 d.)  | due and reached in July, late     |
| Cedro    | 10/07 | 20/07              | —              | due in July, not reached: late    |
| Duna     | 25/07 | 04/08              | —              | not due in July: not counted      |
→ 2 reached, median 15 days; 3 due, 1 on time (33.3 %).

Handoffs to Lucas in July: Aurora on 30/07 (first success due 09/08: on time); Eira on 15/07 (started 01/05, first
success due 15/06: late) → 2, 50 % on time.

Reviews as of 31/07 (Lucas): Aurora and Eira (due in October), Farol (handed off 01/03, due 01/06, never held:
overdue), Gávea (due 01/05, held 20/07: covered), Horto (due 10/06, held 05/08, after July: overdue); Iara is
tech-touch (no cadence). → 5 with a cadence, 2 overdue, 60 % covered. Beatriz: Jacarandá (due 10/04, never held)
→ 1, 1 overdue, 0 %.

Answers in July counted for Lucas: NPS 3 (loop closed 2 days later), CSAT 1 (closed 4 days later), NPS 5 (open),
NPS 9; and an NPS 0 in June (not July). → 3 detractors, 2 closed, median 3 days; NPS of 3, 5, 9 = −33.3.
Beatriz: NPS 10 → NPS 100.

Tasks of Lucas as of 31/07: due 20/07 open (overdue), due 25/07 done 02/08 (overdue then), due 25/07 done 28/07,
due 10/08 open, due 01/07 cancelled → 2 overdue. Camila (the other team): 1 overdue.
"""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from metrics import operations, operations_tallies, rollups
from metrics.models import OperationsTally, OperationsTallyBuild
from metrics.periods import Period, PeriodKind
from metrics.selectors import MetricsFilters
from portfolio import ledger, services
from portfolio.models import (
    ChurnCategory,
    ChurnReason,
    Milestone,
    MilestoneKind,
    ServiceModelPolicy,
    SuccessReview,
    Task,
    TaskStatus,
)
from portfolio.taxonomy import install_defaults
from surveys.models import Response
from tests.metrics.conftest import R, at
from tests.portfolio.factories import ContactFactory, CustomerFactory, hand_off, subscribe
from tests.surveys.factories import CampaignFactory, DeliveryFactory, ResponseFactory

TODAY = date(2025, 8, 15)
JULY = Period(PeriodKind.MONTH, date(2025, 7, 1), date(2025, 7, 1))
ALL = MetricsFilters()


def moment(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


def onboarding(name, start, *, owner, ism, **kwargs):
    with at(start):
        return CustomerFactory(name=name, owner=owner, implementation_manager=ism, start_date=start, **kwargs)


def first_value(customer):
    return Milestone.objects.get(customer=customer, kind=MilestoneKind.FIRST_VALUE)


def reach(customer, day, ism):
    with at(TODAY):
        services.milestone_achieve(milestone=first_value(customer), achieved_on=day, actor=ism)


def ongoing(name, start, handed_off, owner, **kwargs):
    customer = onboarding(name, start, owner=owner, ism=None, **kwargs)
    with at(handed_off):
        hand_off(customer, owner, held_on=handed_off)
    return customer


def held(customer, day, actor):
    review = SuccessReview.objects.get(customer=customer, status="scheduled")
    with at(day):
        services.review_complete(
            review=review, held_on=day, past=[{"q": "O que alcançamos?", "a": "Funil no ar"}], future=[],
            goals=["Dobrar conversão"], outcome="Bom", actor=actor,
        )  # fmt: skip


def answer(customer, score, day, *, kind="nps", closed_after_days=None):
    campaign = CampaignFactory(kind=kind)
    delivery = DeliveryFactory(campaign=campaign, contact=ContactFactory(customer=customer), sent_at=moment(day, 8))
    closed = None if closed_after_days is None else moment(day) + timedelta(days=closed_after_days)
    return ResponseFactory(delivery=delivery, score=score, answered_at=moment(day), loop_closed_at=closed)


def task(owner, customer, due, *, status=TaskStatus.OPEN, done=None):
    return Task.objects.create(
        customer=customer, owner=owner, title=f"T: ligar {due:%d/%m}", due_date=due, status=status,
        created_at=moment(date(2025, 6, 1)), completed_at=moment(done) if done else None,
    )  # fmt: skip


@pytest.fixture
def ops(org):
    install_defaults(ChurnCategory, ChurnReason, ServiceModelPolicy)
    lucas, beatriz, juliana, camila = org.csm_a, org.csm_a2, org.ism_a, org.csm_b
    c = SimpleNamespace(org=org, lucas=lucas, beatriz=beatriz, juliana=juliana, camila=camila)
    c.aurora = onboarding("Aurora", date(2025, 6, 25), owner=lucas, ism=juliana)
    c.brisa = onboarding("Brisa", date(2025, 6, 28), owner=lucas, ism=juliana)
    c.cedro = onboarding("Cedro", date(2025, 7, 10), owner=beatriz, ism=juliana)
    c.duna = onboarding("Duna", date(2025, 7, 25), owner=lucas, ism=juliana)
    reach(c.aurora, date(2025, 7, 3), juliana)
    reach(c.brisa, date(2025, 7, 20), juliana)
    with at(date(2025, 7, 30)):
        hand_off(c.aurora, lucas, held_on=date(2025, 7, 30))
    c.eira = ongoing("Eira", date(2025, 5, 1), date(2025, 7, 15), lucas)
    c.farol = ongoing("Farol", date(2025, 1, 1), date(2025, 3, 1), lucas)
    c.gavea = ongoing("Gávea", date(2025, 1, 1), date(2025, 2, 1), lucas)
    held(c.gavea, date(2025, 7, 20), lucas)
    c.horto = ongoing("Horto", date(2025, 1, 1), date(2025, 3, 10), lucas)
    held(c.horto, date(2025, 8, 5), lucas)
    c.iara = ongoing("Iara", date(2025, 1, 1), date(2025, 2, 1), lucas, service_model="tech")
    c.jacaranda = ongoing("Jacarandá", date(2024, 12, 1), date(2025, 1, 10), beatriz)
    c.kiwi = ongoing("Kiwi", date(2025, 1, 1), date(2025, 2, 1), camila)
    # Only the tasks of this story (customers, handoffs and playbooks may have made others).
    Task.objects.all().delete()
    task(lucas, c.farol, date(2025, 7, 20))
    task(lucas, c.farol, date(2025, 7, 25), status=TaskStatus.DONE, done=date(2025, 8, 2))
    task(lucas, c.gavea, date(2025, 7, 25), status=TaskStatus.DONE, done=date(2025, 7, 28))
    task(lucas, c.gavea, date(2025, 8, 10))
    task(lucas, c.horto, date(2025, 7, 1), status=TaskStatus.CANCELLED)
    task(camila, c.kiwi, date(2025, 7, 2))
    Response.objects.all().delete()
    answer(c.aurora, 3, date(2025, 7, 5), closed_after_days=2)
    answer(c.farol, 1, date(2025, 7, 10), kind="csat", closed_after_days=4)
    answer(c.gavea, 5, date(2025, 7, 20))
    answer(c.farol, 9, date(2025, 7, 12))
    answer(c.farol, 0, date(2025, 6, 20))
    answer(c.jacaranda, 10, date(2025, 7, 3))
    answer(c.kiwi, 2, date(2025, 7, 8))
    return c


@pytest.fixture
def today():
    with at(TODAY):
        yield TODAY


def values(row) -> dict:
    return {key: fig.value for key, fig in row.figures.items()}


def test_a_leader_reads_every_figure_per_ism_and_per_csm_computed_by_hand(ops, today):
    result = operations.cs_operations(ops.org.leader_a, JULY, ALL)

    assert result.as_of == date(2025, 7, 31)
    [juliana] = result.ism_rows
    assert juliana.name == "Juliana Pereira"
    assert {k: values(juliana)[k] for k in operations.ISM_COLUMNS} == {
        "first_value_reached": 2,
        "first_value_days": Decimal(15),
        "first_value_due": 3,
        "onboarding_on_time": Decimal(1) / 3,
    }
    rows = {row.name: values(row) for row in result.csm_rows}
    assert set(rows) == {"Lucas Almeida", "Beatriz Santos"}  # never Camila, of the other team
    lucas = rows["Lucas Almeida"]
    assert {k: lucas[k] for k in operations.CSM_COLUMNS} == {
        "handoffs": 2,
        "handoffs_on_time": Decimal("0.5"),
        "review_eligible": 5,
        "review_coverage": Decimal("0.6"),
        "reviews_overdue": 2,
        "detractors": 3,
        "loops_closed": 2,
        "loop_days": Decimal(3),
        "tasks_overdue": 2,
    }
    assert lucas["loops_open"] == 1
    assert round(lucas["nps"], 4) == Decimal("-33.3333")
    beatriz = rows["Beatriz Santos"]
    assert (beatriz["review_eligible"], beatriz["reviews_overdue"], beatriz["review_coverage"]) == (1, 1, 0)
    assert beatriz["nps"] == 100
    assert beatriz["handoffs_on_time"] is None
    total = values(result.csm_summary)
    assert (total["review_eligible"], total["reviews_overdue"], total["tasks_overdue"]) == (6, 3, 2)
    assert total["review_coverage"] == Decimal(3) / 6


def test_a_leader_who_sees_every_customer_reads_what_testing_the_door_on_each_row_gives(ops, today, monkeypatch):
    # given the leader of team A leads team B too: the door lets her through to every customer, Camila's included
    org = ops.org
    org.team_b.leader = org.leader_a
    org.team_b.save()
    assert operations.Scope.of(org.leader_a).everyone

    # when her CS operations are read without the door, as then, and testing it on every row
    for period in (JULY, Period.of(PeriodKind.TRAILING, date(2025, 7, 1), current=date(2025, 8, 1))):
        without = operations.cs_operations(org.leader_a, period, ALL)
        monkeypatch.setattr(operations, "sees_every_customer", lambda user: False)
        assert not operations.Scope.of(org.leader_a).everyone
        through = operations.cs_operations(org.leader_a, period, ALL)
        monkeypatch.undo()

        # then every row and total is the same, and the admin (everyone by rule) reads the same
        admin = operations.cs_operations(org.admin, period, ALL)
        for result in (through, admin):
            for rows in ("ism_rows", "csm_rows"):
                assert [(r.name, values(r)) for r in getattr(without, rows)] == [
                    (r.name, values(r)) for r in getattr(result, rows)
                ]
            assert values(without.csm_summary) == values(result.csm_summary)
        assert "Camila Ferreira" in {row.name for row in without.csm_rows}


def test_a_review_held_after_the_period_was_still_overdue_then_but_not_today(ops, today):
    august = Period(PeriodKind.MONTH, date(2025, 8, 1), date(2025, 8, 1))

    result = operations.cs_operations(ops.org.leader_a, august, ALL)

    lucas = next(row for row in result.csm_rows if row.person_id == ops.lucas.pk)
    assert result.as_of == TODAY
    # Farol still overdue; Horto held on 5 August; the task due 10 August is overdue now, the one done 2 August not.
    assert values(lucas)["reviews_overdue"] == 1
    assert values(lucas)["tasks_overdue"] == 2


def test_undefined_figures_say_why(ops, today):
    june = Period(PeriodKind.MONTH, date(2025, 6, 1), date(2025, 6, 1))

    result = operations.cs_operations(ops.org.leader_a, june, ALL)

    lucas = next(row for row in result.csm_rows if row.person_id == ops.lucas.pk)
    assert lucas.figures["handoffs_on_time"].value is None
    assert "passagem de bastão" in str(lucas.figures["handoffs_on_time"].why)
    assert lucas.figures["loop_days"].value is None  # the June detractor is still waiting
    assert lucas.figures["nps"].value == -100
    beatriz = next(row for row in result.csm_rows if row.person_id == ops.beatriz.pk)
    assert beatriz.figures["nps"].value is None
    assert str(beatriz.figures["nps"].why) == str(operations.NO_NPS)


def test_a_csm_reads_only_their_own_row_against_the_team_median(ops, today):
    result = operations.cs_operations(ops.lucas, JULY, ALL)

    assert result.compares is False
    assert [row.person_id for row in result.csm_rows] == [ops.lucas.pk]
    assert result.ism_rows == []
    median = values(result.csm_summary)
    assert result.csm_summary.is_median
    # Lucas 2 and Beatriz 1 reviews overdue; tasks overdue 2 and 0; coverage 60 % and 0 %.
    assert (median["reviews_overdue"], median["tasks_overdue"], median["review_coverage"]) == (
        Decimal("1.5"),
        Decimal(1),
        Decimal("0.3"),
    )


def test_an_ism_reads_their_own_onboarding_row(ops, today):
    result = operations.cs_operations(ops.juliana, JULY, ALL)

    assert [row.person_id for row in result.ism_rows] == [ops.juliana.pk]
    assert values(result.ism_rows[0])["first_value_days"] == 15
    assert result.csm_rows == []


def test_the_filters_narrow_to_the_customers_slices(ops, today):
    tech = operations.cs_operations(ops.org.leader_a, JULY, MetricsFilters(service_model="tech"))
    beatriz_only = operations.cs_operations(ops.org.leader_a, JULY, MetricsFilters(owner=ops.beatriz.pk))

    assert tech.ism_rows == []
    assert all(values(r)["review_eligible"] == 0 for r in tech.csm_rows)
    assert values(beatriz_only.ism_rows[0])["first_value_due"] == 1  # Cedro
    assert {row.person_id for row in beatriz_only.csm_rows} == {ops.beatriz.pk}


def names(page) -> list[str]:
    return [customer.name for customer, _item in page.rows]


def test_each_figure_lists_exactly_the_customers_behind_it(ops, today):
    leader = ops.org.leader_a

    def drill(figure, person=None):
        return names(operations.operations_drilldown(leader, JULY, ALL, figure, person=person))

    assert drill("first_value_reached", ops.juliana.pk) == ["Aurora", "Brisa"]
    assert drill("first_value_due") == ["Aurora", "Brisa", "Cedro"]
    assert drill("onboarding_late") == ["Brisa", "Cedro"]
    assert drill("handoffs", ops.lucas.pk) == ["Aurora", "Eira"]
    assert drill("handoffs_late", ops.lucas.pk) == ["Eira"]
    assert drill("reviews_overdue", ops.lucas.pk) == ["Farol", "Horto"]
    assert drill("reviews_overdue") == ["Farol", "Horto", "Jacarandá"]
    assert drill("review_eligible", ops.lucas.pk) == ["Aurora", "Eira", "Farol", "Gávea", "Horto"]
    assert drill("detractors", ops.lucas.pk) == ["Aurora", "Farol", "Gávea"]
    assert drill("loops_open", ops.lucas.pk) == ["Gávea"]
    assert drill("tasks_overdue", ops.lucas.pk) == ["Farol", "Farol"]
    assert drill("tasks_overdue") == ["Farol", "Farol"]  # not Camila's Kiwi


def test_a_csm_drills_only_into_their_own_customers_whatever_the_url_says(ops, today):
    page = operations.operations_drilldown(ops.lucas, JULY, ALL, "reviews_overdue", person=ops.beatriz.pk)

    assert names(page) == ["Farol", "Horto"]


# --- The page, the door, the API, the CSV ----------------------------------------------------------------

URL = reverse("metrics:panel_operations")
CSMS = reverse("metrics:panel_csms")
OPS = reverse("metrics:operations")
JULY_QUERY = {"period": "month", "month": "2025-07"}


@pytest.fixture
def paying(ops, today):
    """Farol (Lucas) and Jacarandá (Beatriz) pay since January, so the per-CSM comparison has their rows."""
    for customer in (ops.farol, ops.jacaranda):
        subscribe(customer, 1000 * R, start=date(2025, 1, 1))
        ledger.sync_customer(customer, today=TODAY)
    rollups.rebuild_all()
    return ops


def test_the_page_shows_the_section_with_each_number_opening_its_customers(paying, client_for):
    response = client_for(paying.org.leader_a).get(URL, JULY_QUERY)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Operações de CS" in html
    assert 'id="ops-isms"' in html
    assert 'id="ops-csms"' in html
    lucas = paying.lucas.pk
    assert f"figure=reviews_overdue&amp;person={lucas}" in html
    assert f"figure=first_value_due&amp;person={paying.juliana.pk}" in html
    assert "Camila Ferreira" not in html


def test_the_per_csm_table_gains_nps_reviews_and_tasks_overdue_sortable(paying, client_for):
    response = client_for(paying.org.leader_a).get(CSMS, {**JULY_QUERY, "sort": "reviews_overdue"})

    rows = response.context["comparison"].rows
    assert [row.name for row in rows] == ["Lucas Almeida", "Beatriz Santos"]  # 2 reviews overdue, then 1
    lucas = rows[0].figures
    assert (lucas["reviews_overdue"].value, lucas["tasks_overdue"].value) == (2, 2)
    assert round(lucas["nps"].value, 1) == Decimal("-33.3")
    total = response.context["comparison"].total.figures
    assert (total["reviews_overdue"].value, total["tasks_overdue"].value) == (3, 2)
    assert total["nps"].value == 0  # 3, 5, 9 and 10: two promoters, two detractors
    html = response.content.decode()
    assert f"/surveys/results/nps/?months=3&amp;owner={paying.lucas.pk}" in html
    assert "?period=month&amp;month=2025-07&amp;sort=nps#csm-comparison" in html


def test_a_csm_sees_their_own_rows_and_the_median_never_a_colleagues(paying, client_for):
    response = client_for(paying.lucas).get(URL, JULY_QUERY)
    compared = client_for(paying.lucas).get(CSMS, JULY_QUERY)

    html = response.content.decode() + compared.content.decode()
    assert "Beatriz Santos" not in html
    assert "Mediana da equipe" in html
    ops = response.context["ops"]
    assert [row.person_id for row in ops.csm_rows] == [paying.lucas.pk]
    median = compared.context["comparison"].median.figures
    assert median["reviews_overdue"].value == Decimal("1.5")


def test_the_drill_down_page_lists_the_customers_and_the_door_holds(paying, client_for):
    leader = client_for(paying.org.leader_a).get(
        OPS, {**JULY_QUERY, "figure": "reviews_overdue", "person": paying.lucas.pk}
    )
    csm = client_for(paying.lucas).get(OPS, {**JULY_QUERY, "figure": "reviews_overdue", "person": paying.beatriz.pk})
    other_team = client_for(paying.org.leader_b).get(
        OPS, {**JULY_QUERY, "figure": "reviews_overdue", "person": paying.lucas.pk}
    )

    assert [c.name for c, _item in leader.context["rows"]] == ["Farol", "Horto"]
    assert [c.name for c, _item in csm.context["rows"]] == ["Farol", "Horto"]
    assert other_team.context["rows"] == []
    assert f'href="/portfolio/{paying.farol.pk}/"' in leader.content.decode() or "Farol" in leader.content.decode()
    assert client_for(paying.lucas).get(OPS, {"figure": "nothing"}).status_code == 404


def test_the_page_reads_the_section_in_constant_queries(paying, client_for, django_assert_max_num_queries):
    client = client_for(paying.org.leader_a)
    client.get(URL, JULY_QUERY)
    # three of them the leader's door: her teams' people, and does it let her through to every customer? One the
    # operations tallies' build: there is none, so July's first values, handoffs and answers are counted live
    with django_assert_max_num_queries(18) as few:
        client.get(URL, JULY_QUERY)
    for n in range(4):
        more = ongoing(f"Mais {n}", date(2025, 1, 1), date(2025, 2, 1), paying.beatriz)
        task(paying.beatriz, more, date(2025, 7, 3))
        answer(more, 2, date(2025, 7, 9), closed_after_days=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL, JULY_QUERY)
    beatriz = next(r for r in response.context["ops"].csm_rows if r.person_id == paying.beatriz.pk)
    assert beatriz.figures["reviews_overdue"].value == 5
    # and once the tallies are built, July's six live counts (milestones, handoffs, detractors, NPS, reviews, tasks)
    # are one read of them
    build_tallies()
    with django_assert_max_num_queries(len(few.captured_queries) - 5):
        tallied = client.get(URL, JULY_QUERY)
    assert rows_of(tallied.context["ops"]) == rows_of(response.context["ops"])


def test_the_api_and_the_csv_give_the_same_numbers(paying, api_for, client_for):
    body = api_for(paying.org.leader_a).get("/api/v1/metrics/operations/", JULY_QUERY).json()
    mine = api_for(paying.lucas).get("/api/v1/metrics/operations/", JULY_QUERY).json()
    csv_text = client_for(paying.org.leader_a).get(reverse("metrics:export"), {**JULY_QUERY, "table": "operations"})

    [juliana] = body["isms"]
    assert {f["key"]: f["value"] for f in juliana["figures"]}["first_value_days"] == 15
    lucas = next(r for r in body["csms"] if r["person_id"] == paying.lucas.pk)
    figures = {f["key"]: f["value"] for f in lucas["figures"]}
    assert (figures["review_coverage"], figures["reviews_overdue"], figures["loop_days"]) == (0.6, 2, 3)
    assert body["as_of"] == "2025-07-31"
    assert [r["person_id"] for r in mine["csms"]] == [paying.lucas.pk]
    assert mine["csm_summary"]["name"] == ""
    rows = list(csv.reader(io.StringIO(csv_text.content.decode())))
    lucas_csv = next(r for r in rows if r[1] == "Lucas Almeida")
    assert lucas_csv[2:] == ["2", "0.500000", "5", "0.600000", "2", "3", "2", "3.000000", "2"]
    csms = client_for(paying.org.leader_a).get(reverse("metrics:export"), {**JULY_QUERY, "table": "csms"})
    header, *_rest = csv.reader(io.StringIO(csms.content.decode()))
    assert header[-3:] == ["NPS", "Revisões atrasadas", "Tarefas atrasadas"]


# --- In a browser ----------------------------------------------------------------------------------------

SHOTS = Path("/tmp/shots_mops")  # noqa: S108 - where the screenshots are looked at


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("device", "viewport"), [("desktop", (1280, 800)), ("phone", (390, 844))])
def test_a_leader_follows_reviews_overdue_to_the_customers(browser, live_server, login_page, paying, device, viewport):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    SHOTS.mkdir(exist_ok=True)

    # given the leader on the metrics page, July 2025
    login_page(page, paying.org.leader_a)
    page.goto(f"{live_server.url}/metrics/?period=month&month=2025-07")
    section = page.locator("#cs-operations")
    section.scroll_into_view_if_needed()
    expect(section.locator("#ops-isms tbody tr")).to_have_count(1)
    expect(section.locator("#ops-csms tbody tr")).to_have_count(2)
    expect(page.locator("#per-csm thead")).to_contain_text("Revisões atrasadas")
    section.locator("summary").click()
    expect(section.locator(".how p").first).to_be_visible()
    page.screenshot(path=str(SHOTS / f"operations-{device}-1-page.png"), full_page=True)
    page.locator("form.filters").screenshot(path=str(SHOTS / f"operations-{device}-0-filters.png"))
    page.locator("#per-csm").screenshot(path=str(SHOTS / f"operations-{device}-1-per-csm.png"))
    section.screenshot(path=str(SHOTS / f"operations-{device}-1-section.png"))

    # when they follow Lucas's reviews overdue
    lucas = section.locator("#ops-csms tbody tr", has_text="Lucas Almeida")
    lucas.locator(f"a[href*='figure=reviews_overdue&person={paying.lucas.pk}']").click()

    # then they see the two customers whose review is late, and go on into one
    expect(page.locator("#operations-customers tbody tr")).to_have_count(2)
    expect(page.locator("#operations-customers")).to_contain_text("Horto")
    page.screenshot(path=str(SHOTS / f"operations-{device}-2-customers.png"), full_page=True)
    page.locator("#operations-customers tbody a", has_text="Farol").click()
    expect(page.get_by_role("heading", name="Farol")).to_be_visible()
    context.close()


def test_review_coverage_of_a_past_month_counts_the_stage_each_customer_had_then(ops, today):
    # given Gávea (ongoing all July, its review held on 20 July) churned on 10 August, and Duna (onboarding in July)
    # handed off on 12 August
    with at(date(2025, 8, 10)):
        request = services.churn_request_open(
            customer=ops.gavea, kind="voluntary", reason=ChurnReason.objects.get(code="budget-cut"),
            detail="Fusão com outra rede cortou o orçamento de ferramentas em 40%", actor=ops.lucas,
        )  # fmt: skip
        services.churn_request_resolve(churn_request=request, outcome="churned", actor=ops.lucas)
    with at(date(2025, 8, 12)):
        hand_off(ops.duna, ops.lucas, held_on=date(2025, 8, 12))

    # when the leader reads July, and August so far
    july = {row.name: values(row) for row in operations.cs_operations(ops.org.leader_a, JULY, ALL).csm_rows}
    august = Period(PeriodKind.MONTH, date(2025, 8, 1), date(2025, 8, 1))
    now = {row.name: values(row) for row in operations.cs_operations(ops.org.leader_a, august, ALL).csm_rows}

    # then July still counts Gávea (ongoing on 31 July) and not Duna (onboarding then): 5 with a cadence, 2 overdue,
    # as in the story above; August counts Duna (ongoing since the 12th) and not Gávea (churned)
    assert (july["Lucas Almeida"]["review_eligible"], july["Lucas Almeida"]["reviews_overdue"]) == (5, 2)
    assert july["Lucas Almeida"]["review_coverage"] == Decimal("0.6")
    customers = operations.operations_drilldown(ops.org.leader_a, august, ALL, "review_eligible", person=ops.lucas.pk)
    assert sorted(c.name for c, _item in customers.rows) == ["Aurora", "Duna", "Eira", "Farol", "Horto"]
    assert now["Lucas Almeida"]["review_eligible"] == 5


def test_equal_values_count_once_per_milestone_and_answer_and_a_loop_keeps_its_hours(ops, today):
    # given two more first values reached in July after 8 days, like Aurora's (Juliana: 8, 22, 8, 8 days), and two
    # more detractors of Lucas in July, closed 2 days after (like Aurora's NPS 3) and 6 hours after (2, 4, 2, 0.25)
    for name in ("Ipê", "Jatobá"):
        customer = onboarding(name, date(2025, 7, 1), owner=ops.lucas, ism=ops.juliana)
        reach(customer, date(2025, 7, 9), ops.juliana)
    answer(ops.eira, 4, date(2025, 7, 14), closed_after_days=2)
    answer(ops.horto, 6, date(2025, 7, 16), closed_after_days=0.25)

    # when the leader reads July
    result = operations.cs_operations(ops.org.leader_a, JULY, ALL)

    # then each counts once: Juliana 4 reached, median 8 days; Lucas 5 detractors, 4 closed, median 2 days; the
    # total's median over everyone's values
    [juliana] = result.ism_rows
    assert (values(juliana)["first_value_reached"], values(juliana)["first_value_days"]) == (4, 8)
    lucas = next(row for row in result.csm_rows if row.person_id == ops.lucas.pk)
    assert (values(lucas)["detractors"], values(lucas)["loops_closed"], values(lucas)["loop_days"]) == (5, 4, 2)
    assert values(result.csm_summary)["loop_days"] == 2
    # and a loop of 6 hours alone is a quarter of a day
    june = Period(PeriodKind.MONTH, date(2025, 6, 1), date(2025, 6, 1))
    Response.objects.filter(answered_at__month=6).update(loop_closed_at=moment(date(2025, 6, 20), 16))
    in_june = operations.cs_operations(ops.org.leader_a, june, ALL)
    lucas_june = next(row for row in in_june.csm_rows if row.person_id == ops.lucas.pk)
    assert values(lucas_june)["loop_days"] == Decimal("0.25")


# --- The closed months from the tallies ------------------------------------------------------------------------


def rows_of(result) -> list:
    summary = lambda row: values(row) if row is not None else None  # noqa: E731
    return [
        [(row.person_id, values(row)) for row in result.ism_rows],
        [(row.person_id, values(row)) for row in result.csm_rows],
        summary(result.ism_summary),
        summary(result.csm_summary),
    ]


def build_tallies():
    with at(TODAY):
        return operations_tallies.rebuild()


@pytest.mark.parametrize("who", ["leader_a", "admin", "lucas", "juliana"])
def test_the_closed_months_from_the_tallies_give_what_the_live_count_gives(ops, today, who):
    person = getattr(ops, who, None) or getattr(ops.org, who)
    # the three extra answers and first values of the story above, in months before and after July
    answer(ops.gavea, 4, date(2025, 5, 30), closed_after_days=3)
    answer(ops.farol, 10, date(2025, 8, 2))
    periods = [
        JULY,
        Period(PeriodKind.QUARTER, date(2025, 5, 1), date(2025, 7, 1)),
        Period.of(PeriodKind.TRAILING, date(2025, 7, 1), current=date(2025, 8, 1)),
        Period.of(PeriodKind.TRAILING, date(2025, 8, 1), current=date(2025, 8, 1)),  # the running month too
    ]
    slices = [
        ALL,
        MetricsFilters(segment="smb"),
        MetricsFilters(service_model="high"),
        MetricsFilters(owner=ops.lucas.pk),
    ]
    live = {(p, f): rows_of(operations.cs_operations(person, p, f)) for p in periods for f in slices}

    build_tallies()

    assert OperationsTallyBuild.fresh() is not None
    for (period, filters), expected in live.items():
        assert rows_of(operations.cs_operations(person, period, filters)) == expected, (period, filters)
    # and the comparison's figures (NPS, reviews and tasks overdue) too
    compared = operations.comparison_operations(ops.org.leader_a, periods[2], ALL)
    with override_settings(LEME_OPERATIONS_TALLIES_MAX_AGE=0):
        counted = operations.comparison_operations(ops.org.leader_a, periods[2], ALL)
    figures = lambda ops_: {  # noqa: E731
        p: {k: f.value for k, f in operations.figures_of(t).items()} for p, t in ops_.tallies.items()
    }
    assert figures(compared) == figures(counted)


def test_a_closed_month_is_read_from_the_tallies_the_running_month_live_and_an_old_build_never(ops, today):
    build_tallies()
    # given, after the build, Lucas's NPS 9 of July taken back and an NPS 10 given in August
    Response.objects.filter(score=9).delete()
    answer(ops.farol, 10, date(2025, 8, 2))
    august = Period(PeriodKind.MONTH, date(2025, 8, 1), date(2025, 8, 1))

    def nps(period):
        result = operations.cs_operations(ops.org.leader_a, period, ALL)
        return next(row for row in result.csm_rows if row.person_id == ops.lucas.pk).figures["nps"].value

    # then July still counts the NPS 9 (3, 5, 9: −33.3) until the next build, and August counts the 10 at once
    assert round(nps(JULY), 1) == Decimal("-33.3")
    assert nps(august) == 100
    # and a build older than the allowed age is never read: July counted live (3, 5: −100)
    with at(TODAY, hour=11), override_settings(LEME_OPERATIONS_TALLIES_MAX_AGE=30 * 60):
        assert nps(JULY) == -100
    # as the next build counts it
    build_tallies()
    assert nps(JULY) == -100


def test_a_build_holds_only_the_months_before_its_own(ops, today):
    # given tallies built on 31 July, then August came: July is no longer running but the build never counted it
    with at(date(2025, 7, 31), hour=23):
        operations_tallies.rebuild()
    Response.objects.filter(score=9).delete()
    assert OperationsTally.objects.filter(month=JULY.start).count() == 0

    with override_settings(LEME_OPERATIONS_TALLIES_MAX_AGE=24 * 60 * 60):
        result = operations.cs_operations(ops.org.leader_a, JULY, ALL)

    # then July is counted live (the NPS 9 gone: 3 and 5)
    lucas = next(row for row in result.csm_rows if row.person_id == ops.lucas.pk)
    assert lucas.figures["nps"].value == -100


def test_metrics_rebuild_counts_the_tallies_and_its_check_names_a_month_that_differs(ops, today):
    out = io.StringIO()
    with at(TODAY):
        call_command("metrics_rebuild", stdout=out)
        call_command("metrics_rebuild", "--check", stdout=out)
    assert "The CS operations' tallies equal the live count" in out.getvalue()
    assert OperationsTally.objects.filter(kind=OperationsTally.Kind.HANDOFF, month=JULY.start).exists()

    # when a July answer is taken back after the build
    Response.objects.filter(score=9).delete()

    with at(TODAY), pytest.raises(CommandError, match="CS operations' tallies differ"):
        call_command("metrics_rebuild", "--check", stdout=out)
    assert "2025-07" in out.getvalue()


def test_the_check_finds_tallies_that_lost_every_row(ops, today):
    build_tallies()
    OperationsTally.objects.all().delete()

    report = operations_tallies.check()

    assert report.problems == ["the live count has figures before 2025-08, the tallies none"]


def test_the_section_says_when_the_closed_months_it_shows_were_counted(paying, client_for):
    client = client_for(paying.org.leader_a)
    counted_live = client.get(URL, JULY_QUERY, headers={"HX-Request": "true"})
    assert operations.cs_operations(paying.org.leader_a, JULY, ALL).counted_at is None
    assert "Meses já fechados como contados às" not in counted_live.text

    build_tallies()  # at 10:00
    tallied = client.get(URL, JULY_QUERY, headers={"HX-Request": "true"})

    assert operations.cs_operations(paying.org.leader_a, JULY, ALL).counted_at == moment(TODAY, 10)
    assert "Meses já fechados como contados às 10:00." in tallied.text
    # the running month alone is all live: nothing read from the tallies, nothing to say
    august = client.get(URL, {"period": "month", "month": "2025-08"}, headers={"HX-Request": "true"})
    assert "Meses já fechados como contados às" not in august.text
    assert "Operações de CS" in august.text
