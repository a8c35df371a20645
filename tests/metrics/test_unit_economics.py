"""Unit economics on the story of conftest.py, plus two customers: Kappa, new on 10 July 2025 at R$ 1.000, and
Iota, who joined on 5 June and cancelled on 25 June (no month-end MRR ever: the ledger never sees it).

July 2025 by hand (the whole workspace):

* new customers by first paid day: Kappa → 1; spend R$ 5.000 → CAC R$ 5.000;
* MRR at the end 4.900 (Alfa 1.000, Beta 600, Gama 1.000, Delta 700, Zeta 600, Kappa 1.000) of 6 paying →
  ARPA R$ 816,67 (81.667 cents);
* monthly logo churn February..July: 0, 0, 1/6 (Beta), 1/7 (Épsilon), 0, 2/7 (Eta, Teta) → average 25/252;
* LTV = 81.667 × margin ÷ (25/252); CAC payback = CAC ÷ (ARPA × margin).
"""

import csv
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from metrics import rollups, selectors, services
from metrics.models import MonthlySpend
from metrics.periods import Period
from portfolio import services as portfolio_services
from tests.metrics.conftest import R, at, customer
from tests.portfolio.factories import subscribe

URL = reverse("metrics:overview")
PANEL = reverse("metrics:panel_unit_economics")
SPEND = reverse("metrics:spend")
MARGIN = reverse("metrics:gross_margin")
IMPORT = reverse("metrics:spend_import")
EXPORT = reverse("metrics:export")
API_UNIT = "/api/v1/metrics/unit-economics/"
API_SPEND = "/api/v1/metrics/spend/"
JULY = {"period": "month", "month": "2025-07"}
ARPA = 81_667
CHURN = Decimal(25) / Decimal(252)


@pytest.fixture
def workspace(story, today):
    kappa = customer("Kappa", story.lucas, date(2025, 7, 10))
    subscribe(kappa, 1000 * R, start=date(2025, 7, 10))
    iota = customer("Iota", story.lucas, date(2025, 6, 5))
    only = subscribe(iota, 900 * R, start=date(2025, 6, 5))
    with at(date(2025, 6, 25)):
        portfolio_services.subscription_cancel(subscription=only, actor=None, end_date=date(2025, 6, 25))
    rollups.rebuild_all()
    return story


def spend(month: str, reais: int, actor) -> None:
    year, number = map(int, month.split("-"))
    services.spend_record(month=date(year, number, 1), amount_cents=reais * R, actor=actor)


def unit(user, **params):
    kind, month = params.get("period", "month"), params.get("month", "2025-07")
    year, number = map(int, month.split("-"))
    return selectors.unit_economics_of(user, Period.of(kind, date(year, number, 1), current=date(2025, 8, 1)))


def values(economics) -> dict:
    return {key: fig.value for key, fig in economics.figures.items()}


def test_cac_ltv_to_cac_and_payback_of_july_as_computed_by_hand(workspace):
    leader = workspace.org.leader_a
    spend("2025-07", 5000, leader)

    shown = values(unit(leader))

    ltv = round(Decimal(ARPA) / CHURN)
    assert (shown["spend"], shown["acquired"], shown["cac"]) == (5000 * R, 1, 5000 * R)
    assert (shown["arpa"], shown["ltv"]) == (ARPA, ltv)
    assert shown["ltv_cac"] == Decimal(ltv) / Decimal(5000 * R)  # about 1.65: below the 3:1 line
    assert shown["cac_payback"] == Decimal(5000 * R) / Decimal(ARPA)  # about 6.1 months: under 12
    assert shown["gross_margin"] == 1


def test_cac_counts_a_customer_that_joined_and_churned_within_the_month(workspace):
    spend("2025-06", 3000, workspace.org.leader_a)

    june = values(unit(workspace.org.leader_a, month="2025-06"))

    assert june["acquired"] == 1  # Iota: no month-end MRR, no ledger row, yet it cost the same to acquire
    assert june["cac"] == 3000 * R


def test_a_period_with_a_month_without_spend_has_no_cac_and_says_which(workspace):
    spend("2025-04", 6000, workspace.org.leader_a)
    spend("2025-06", 2000, workspace.org.leader_a)

    quarter = unit(workspace.org.leader_a, period="quarter", month="2025-06")

    assert quarter.figures["spend"].value is None
    assert quarter.figures["cac"].value is None
    assert "May 2025" in str(quarter.figures["cac"].why) or "Mai 2025" in str(quarter.figures["cac"].why)
    assert quarter.figures["acquired"].value == 3  # Delta and Épsilon in April, Iota in June


def test_no_new_customers_leaves_cac_undefined_never_zero(workspace):
    spend("2025-05", 4000, workspace.org.leader_a)

    may = unit(workspace.org.leader_a, month="2025-05")

    assert may.figures["acquired"].value == 0
    assert may.figures["cac"].value is None
    assert may.figures["ltv_cac"].value is None
    assert may.figures["cac_payback"].value is None


def test_the_gross_margin_set_by_an_admin_moves_ltv_and_payback(workspace, client_for):
    # given July's spend and an 80 % margin
    spend("2025-07", 5000, workspace.org.leader_a)
    services.gross_margin_set(percent=Decimal("80"), actor=workspace.org.admin)

    # when the leader reads July
    shown = values(unit(workspace.org.leader_a))
    page = client_for(workspace.org.leader_a).get(URL, JULY).context

    # then LTV and payback use it, on the page's headline LTV too
    ltv = round(Decimal(ARPA) * Decimal("0.8") / CHURN)
    assert shown["ltv"] == ltv
    assert shown["cac_payback"] == Decimal(5000 * R) / (Decimal(ARPA) * Decimal("0.8"))
    assert shown["gross_margin"] == Decimal("0.8")
    assert page["overview"].figures["ltv"].value == ltv  # the leader's team is the whole story


@pytest.mark.parametrize("role", ["leader_a", "admin"])
def test_leaders_and_admins_enter_spend(workspace, role):
    actor = getattr(workspace.org, role)

    services.spend_record(month=date(2025, 7, 1), amount_cents=5000 * R, actor=actor, notes="Feira + Google Ads")
    services.spend_record(month=date(2025, 7, 1), amount_cents=5500 * R, actor=actor)

    row = MonthlySpend.objects.get()
    assert (row.amount_cents, row.entered_by) == (5500 * R, actor)


@pytest.mark.parametrize("role", ["csm_a", "viewer_a", "ism_a"])
def test_others_cannot_enter_spend(workspace, role):
    with pytest.raises(PermissionDenied):
        services.spend_record(month=date(2025, 7, 1), amount_cents=1, actor=getattr(workspace.org, role))


def test_only_admins_set_the_margin(workspace):
    with pytest.raises(PermissionDenied):
        services.gross_margin_set(percent=Decimal(70), actor=workspace.org.leader_a)


def test_a_csm_sees_no_unit_economics(workspace, client_for):
    client = client_for(workspace.lucas)

    response = client.get(URL, JULY)

    assert "unit_economics" not in response.context["panels"]
    assert 'id="unit-economics"' not in response.content.decode()
    assert client.get(PANEL, JULY).status_code == 403
    assert client.post(SPEND, {"spend-month": "2025-07", "spend-amount": "10"}).status_code == 403
    assert client.get(EXPORT, {**JULY, "table": "unit_economics"}).status_code == 404


# --- The page's forms -------------------------------------------------------------------------------------


def test_an_empty_spend_form_answers_422_with_its_messages_then_a_valid_one_shows_cac(workspace, client_for):
    client = client_for(workspace.org.leader_a)
    htmx = {"HX-Request": "true"}

    empty = client.post(SPEND, {**JULY, "spend-month": "2025-07", "spend-amount": ""}, headers=htmx)
    valid = client.post(SPEND, {**JULY, "spend-month": "2025-07", "spend-amount": "5.000,00"}, headers=htmx)

    assert empty.status_code == 422
    assert 'id="id_spend-amount_error"' in empty.content.decode()
    assert "Este campo é obrigatório." in empty.content.decode()
    assert empty.content.decode().lstrip().startswith('<section class="card" id="unit-economics"')
    assert valid.status_code == 200
    assert valid.context["unit"].figures["cac"].value == 5000 * R
    assert 'id="unit-cac"' in valid.content.decode()
    assert "R$\u00a05.000,00" in valid.content.decode()


def test_without_javascript_the_spend_form_goes_back_to_the_page(workspace, client_for):
    client = client_for(workspace.org.leader_a)

    saved = client.post(SPEND, {**JULY, "spend-month": "07/2025", "spend-amount": "5000"})
    refused = client.post(SPEND, {**JULY, "spend-month": "julho", "spend-amount": "-3"})

    assert saved.status_code == 302
    assert saved["Location"].startswith(f"{URL}?period=month&month=2025-07")
    assert refused.status_code == 422
    assert refused.context["spend_form"].errors.keys() == {"month", "amount"}
    assert MonthlySpend.objects.get().amount_cents == 5000 * R


def test_the_admin_sets_the_margin_on_the_page(workspace, client_for):
    client = client_for(workspace.org.admin)

    bad = client.post(MARGIN, {**JULY, "margin-gross_margin_percent": "0"}, headers={"HX-Request": "true"})
    good = client.post(MARGIN, {**JULY, "margin-gross_margin_percent": "72,5"}, headers={"HX-Request": "true"})

    assert bad.status_code == 422
    assert good.status_code == 200
    assert good.context["unit"].figures["gross_margin"].value == Decimal("0.725")
    assert client_for(workspace.org.leader_a).post(MARGIN, {"margin-gross_margin_percent": "50"}).status_code == 403


# --- The CSV import ---------------------------------------------------------------------------------------


def upload(client, text: str, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(IMPORT, {"file": SimpleUploadedFile("spend.csv", text.encode()), **extra})


def test_a_spend_csv_with_a_bad_row_commits_nothing_and_reports_each_row(workspace, client_for):
    client = client_for(workspace.org.leader_a)

    response = upload(client, "month;amount;notes\n2025-05;4.000,00;Feira\n2025-06;dois mil;\n2025-07;5000;\n")

    assert response.status_code == 422
    rows = response.context["report"].rows
    assert [(r.line, r.action) for r in rows] == [(2, "create"), (3, "error"), (4, "create")]
    assert "dois mil" in rows[1].errors[0]
    assert not MonthlySpend.objects.exists()


def test_a_good_spend_csv_is_checked_then_confirmed_all_at_once(workspace, client_for):
    # given one month already entered
    client = client_for(workspace.org.leader_a)
    spend("2025-05", 4000, workspace.org.leader_a)

    # when the file is checked, then confirmed
    checked = upload(client, "month,amount,currency\n2025-05,4000,BRL\n06/2025,2000.50,\n2025-07,5000,brl\n")
    confirmed = client.post(IMPORT, {"confirm": "1"})

    # then every row was reported, and all went in
    assert checked.status_code == 200
    assert [r.action for r in checked.context["report"].rows] == ["unchanged", "create", "create"]
    assert confirmed.status_code == 302
    stored = dict(MonthlySpend.objects.values_list("month", "amount_cents"))
    assert stored == {date(2025, 5, 1): 4000 * R, date(2025, 6, 1): 200_050, date(2025, 7, 1): 5000 * R}


def test_the_import_refuses_a_repeated_month_and_another_currency(workspace):
    report = services.spend_import(
        text="month,amount,currency\n2025-07,1,BRL\n2025-07,2,BRL\n2025-08,3,USD\n", actor=workspace.org.leader_a
    )

    assert [len(r.errors) for r in report.rows] == [0, 1, 1]
    assert not report.ok


def test_a_csm_cannot_import_spend(workspace, client_for):
    assert client_for(workspace.lucas).get(IMPORT).status_code == 403


# --- The API, and the same numbers everywhere ---------------------------------------------------------------


def test_the_api_enters_spend_with_field_errors_for_bad_input(workspace, api_for):
    api = api_for(workspace.org.leader_a)

    bad = api.post(API_SPEND, {"month": "2025-13", "amount_cents": -5, "currency": "USD"}, format="json")
    wrong_currency = api.post(API_SPEND, {"month": "2025-07", "amount_cents": 5, "currency": "USD"}, format="json")
    good = api.post(API_SPEND, {"month": "2025-07", "amount_cents": 500_000, "notes": "Ads"}, format="json")

    assert bad.status_code == 400
    assert set(bad.json()) == {"month", "amount_cents"}
    assert wrong_currency.status_code == 400
    assert "currency" in wrong_currency.json()
    assert good.status_code == 200
    assert good.json()["month"] == "2025-07-01"
    assert api.get(API_SPEND).json()[0]["amount_cents"] == 500_000
    assert api_for(workspace.lucas).post(API_SPEND, {"month": "2025-07", "amount_cents": 1}).status_code == 403
    assert api_for(workspace.lucas).get(API_UNIT, JULY).status_code == 403


def test_the_page_the_api_and_the_csv_give_the_same_unit_economics(workspace, client_for, api_for):
    # given July's spend and a margin
    spend("2025-07", 5000, workspace.org.leader_a)
    services.gross_margin_set(percent=Decimal("80"), actor=workspace.org.admin)
    leader = workspace.org.leader_a

    # when the leader reads them three ways
    page = {key: fig.value for key, _l, _h, fig, _p, _ok in client_for(leader).get(PANEL, JULY).context["unit_figures"]}
    api = {row["key"]: row["value"] for row in api_for(leader).get(API_UNIT, JULY).json()["figures"]}
    exported = client_for(leader).get(EXPORT, {**JULY, "table": "unit_economics"}).content.decode()
    table = list(csv.reader(exported.splitlines()))[1:]

    # then the numbers agree
    assert list(page) == list(api)
    for (key, value), row in zip(page.items(), table, strict=True):
        if value is None:
            assert api[key] is None
            assert row[1] == ""
        elif key in ("spend", "cac", "arpa", "ltv"):
            assert api[key] == value
            assert Decimal(row[1]) == Decimal(value) / 100
        else:
            assert Decimal(str(api[key])) == round(Decimal(value), 6)
            assert Decimal(row[1]) == round(Decimal(value), 6)


def test_the_openapi_schema_documents_the_new_endpoints(workspace, api_for):
    schema = api_for(workspace.org.admin).get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()

    assert "/api/v1/metrics/spend/" in schema
    assert "/api/v1/metrics/unit-economics/" in schema


def test_the_unit_card_reads_in_constant_queries(workspace, django_assert_num_queries):
    leader = workspace.org.leader_a
    spend("2025-07", 5000, leader)

    # The margin, the workspace's period totals and its months, the spend, the new customers by first paid day.
    with django_assert_num_queries(5):
        unit(leader, period="year", month="2025-08")
