"""The backtest on small hand-built histories whose answers were worked out by hand: the AUC from pairs, the
lift from the band rates, the deciles' churn rates, and the refusal to speak on too little history."""

from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from core import clock
from health.backtest import Observation, auc, average_ranks, backtest, deciles, month_starts, observations_for
from portfolio import services
from portfolio.models import ChurnReason
from tests.health.leader_factories import score
from tests.portfolio.factories import CustomerFactory, hand_off

JAN, FEB, MAR, APR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
TZ = ZoneInfo("America/Sao_Paulo")


# --- The arithmetic ---------------------------------------------------------------------------------------


def test_tied_values_share_their_average_rank():
    assert average_ranks([40, 10, 20, 20, 30]) == [5, 1, Fraction(5, 2), Fraction(5, 2), 4]


def test_the_auc_counts_the_pairs_a_churner_scored_lower_ties_half():
    # churners 10 and 20; non-churners 20, 30, 40. Pairs (churner, non-churner) with the churner lower:
    # 10 < 20, 30, 40 (3); 20 < 30, 40 (2); 20 = 20 counts half. 5.5 of 6 pairs.
    assert auc([10, 20, 20, 30, 40], [True, True, False, False, False]) == Fraction(11, 12)


def test_the_auc_is_a_half_when_the_value_says_nothing_and_undefined_without_both_kinds():
    assert auc([5, 5, 5, 5], [True, False, True, False]) == Fraction(1, 2)
    assert auc([1, 2, 3], [False, False, False]) is None
    assert auc([], []) is None


def test_the_auc_is_one_for_a_perfect_warning_and_zero_for_a_perfectly_wrong_one():
    assert auc([1, 2, 3, 4], [True, True, False, False]) == 1
    assert auc([1, 2, 3, 4], [False, False, True, True]) == 0


def test_deciles_cut_the_sorted_values_into_ten_equal_groups():
    values = list(range(20, 0, -1))  # 20 down to 1: the cut sorts them
    churned = [v <= 4 or v == 11 for v in values]

    rates = [(d.number, d.low, d.high, d.outcome.n, d.outcome.churned) for d in deciles(values, churned)]

    assert rates == [
        (1, 1, 2, 2, 2), (2, 3, 4, 2, 2), (3, 5, 6, 2, 0), (4, 7, 8, 2, 0), (5, 9, 10, 2, 0),
        (6, 11, 12, 2, 1), (7, 13, 14, 2, 0), (8, 15, 16, 2, 0), (9, 17, 18, 2, 0), (10, 19, 20, 2, 0),
    ]  # fmt: skip


def test_equal_values_stay_in_one_group():
    groups = deciles([1, 1, 1, 2], [True, False, True, False], groups=2)

    assert [(d.number, d.outcome.n, d.outcome.churned) for d in groups] == [(1, 3, 2), (2, 1, 0)]


# --- The whole backtest on a known history ---------------------------------------------------------------


def known_history() -> list[Observation]:
    """42 customer-months over January to March: red scored 30 (10, 6 churned), yellow 60 (10, 3 churned),
    green 90 (20, 2 churned), and two with no score. Adoption: the 11 churners have 1–9, 25 and 35, the 29 who
    stayed the rest of 1–40; depth is 5 for everyone."""
    plan = [("red", 30, 10, 6), ("yellow", 60, 10, 3), ("green", 90, 20, 2)]
    churner_values = iter([1, 2, 3, 4, 5, 6, 7, 8, 9, 25, 35])
    stayer_values = iter(v for v in range(1, 41) if v not in {1, 2, 3, 4, 5, 6, 7, 8, 9, 25, 35})
    observations = []
    customer = 0
    for band, value, n, churned in plan:
        for i in range(n):
            customer += 1
            gone = i < churned
            adoption = next(churner_values) if gone else next(stayer_values)
            observations.append(
                Observation(
                    month=[JAN, FEB, MAR][customer % 3],
                    customer_id=customer,
                    score=value,
                    band=band,
                    measures={"adoption": adoption, "depth": 5},
                    churned=gone,
                )
            )
    for extra in (1, 2):
        observations.append(Observation(MAR, 100 + extra, None, "", {"adoption": None, "depth": None}, False))
    return observations


def test_the_known_history_gives_the_known_rates_lift_and_auc():
    result = backtest(known_history())

    assert result.enough
    assert (result.observations, result.churners, result.months) == (42, 11, [JAN, FEB, MAR])
    assert {band: (r.n, r.churned, r.rate) for band, r in result.bands.items()} == {
        "red": (10, 6, Fraction(6, 10)),
        "yellow": (10, 3, Fraction(3, 10)),
        "green": (20, 2, Fraction(1, 10)),
        "none": (2, 0, Fraction(0)),
    }
    assert result.lift == 6
    # 11 churners × 29 who stayed = 319 pairs. A churner at 30 is lower than 7 + 18 who stayed and ties 4 (27
    # each, 6 of them: 162); at 60 lower than 18, ties 7 (21.5 each, 3: 64.5); at 90 ties 18 (9 each, 2: 18).
    assert result.score_auc == Fraction(2445, 10) / 319


def test_each_measure_has_its_auc_and_its_deciles_and_the_signal_is_named():
    result = backtest(known_history())
    adoption, depth = (next(m for m in result.measures if m.key == key) for key in ("adoption", "depth"))

    # the churners' 1–9 are below all 29 who stayed (261 pairs); 25 below 14 of them; 35 below 5
    assert adoption.auc == Fraction(280, 319)
    assert adoption.n == 40
    assert [(d.number, d.outcome.n, d.outcome.churned) for d in adoption.deciles] == [
        (1, 4, 4), (2, 4, 4), (3, 4, 1), (4, 4, 0), (5, 4, 0), (6, 4, 0), (7, 4, 1), (8, 4, 0), (9, 4, 1), (10, 4, 0),
    ]  # fmt: skip
    assert adoption.signal == "strong"
    assert adoption.lower_churns
    assert depth.auc == Fraction(1, 2)
    assert [(d.number, d.outcome.n, d.outcome.churned) for d in depth.deciles] == [(1, 40, 11)]
    assert depth.signal == "none"
    assert result.with_signal == [adoption]
    assert result.without_signal == [depth]
    assert result.measures[0] == adoption  # the strongest first


def test_too_few_months_or_churners_is_said_instead_of_shown():
    two_months = [o for o in known_history() if o.month != MAR]
    nine_churners = [o for o in known_history() if not (o.churned and o.band == "red" and o.customer_id <= 2)]

    for history in (two_months, nine_churners, []):
        result = backtest(history)
        assert not result.enough
        assert result.bands == {}
        assert result.score_auc is None
        assert result.measures == []
    assert backtest(nine_churners).churners == 9
    assert len(backtest(two_months).months) == 2


def test_the_months_are_those_with_a_score_history_and_their_90_days_over():
    assert month_starts(date(2026, 1, 1), date(2026, 6, 15)) == [JAN, FEB, MAR]
    assert month_starts(date(2025, 12, 20), date(2026, 4, 1)) == [JAN]
    assert month_starts(date(2026, 3, 2), date(2026, 6, 15)) == []


# --- Loading the observations ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_observations_take_the_latest_score_within_7_days_and_churn_within_90(org, django_assert_max_num_queries):
    # given Lucas's customer scored on and before the months' starts, and a churn request on 20 April
    lucas = CustomerFactory(owner=org.csm_a, name="Padaria Aurora")
    score(lucas, JAN, 30, raw={"adoption": 12.5}, current=False)
    score(lucas, FEB - timedelta(days=7), 20, current=False)
    score(lucas, FEB - timedelta(days=4), 80, raw={"adoption": 61}, current=False)  # the latest before February
    score(lucas, MAR - timedelta(days=7), 40, current=False)
    score(lucas, APR - timedelta(days=8), 55, current=False)  # too early for April
    hand_off(lucas, org.csm_a)
    with clock.at(datetime(2026, 4, 20, 10, tzinfo=TZ)):
        services.churn_request_open(
            customer=lucas, kind="voluntary", reason=ChurnReason.objects.get(code="budget-cut"),
            detail="Fusão com outra rede cortou o orçamento de ferramentas em 40%", actor=org.csm_a,
        )  # fmt: skip
    # and a customer of another team
    score(CustomerFactory(owner=org.csm_b), JAN, 10, current=False)

    # when the leader of Lucas's team runs the backtest on 1 July (April has no score within 7 days of its start)
    with clock.at(datetime(2026, 7, 1, 10, tzinfo=TZ)), django_assert_max_num_queries(6):
        observations, keys = observations_for(org.leader_a)

    # then one observation per month, January's not churned (20 April is 109 days on), February's and March's
    assert [(o.month, o.customer_id, o.score, o.band, o.churned) for o in observations] == [
        (JAN, lucas.pk, 30, "red", False),
        (FEB, lucas.pk, 80, "green", True),
        (MAR, lucas.pk, 40, "red", True),
    ]
    assert observations[0].measures["adoption"] == 12.5
    assert observations[1].measures["adoption"] == 61
    assert observations[2].measures["adoption"] is None
    assert {"adoption", "payment", "onboarding"} <= set(keys)


@pytest.mark.django_db
def test_the_backtest_page_is_for_leaders_and_admins_and_says_when_history_is_short(org, client_for):
    score(CustomerFactory(owner=org.csm_a), JAN, 30, current=False)

    leader = client_for(org.leader_a).get("/health/backtest/")
    admin = client_for(org.admin).get("/health/backtest/")
    csm = client_for(org.csm_a).get("/health/backtest/")

    assert leader.status_code == admin.status_code == 200
    assert 'id="too-little-history"' in leader.text
    assert "Histórico curto demais" in leader.text
    assert 'id="backtest-bands"' not in leader.text
    assert csm.status_code == 403


@pytest.mark.django_db
def test_the_backtest_page_shows_the_known_figures_and_names_the_measures_with_signal(org, client_for, monkeypatch):
    # the loading is tested above: here the page shows what the arithmetic gives on the known history
    monkeypatch.setattr("health.backtest.backtest_for", lambda user: backtest(known_history()))

    response = client_for(org.admin).get("/health/backtest/")

    text = response.text
    assert response.status_code == 200
    assert 'id="too-little-history"' not in text
    assert "6,0×" in text  # the lift
    assert "0,766" in text  # 489/638 = 0.76646…
    assert "0,878" in text  # adoption's 280/319 = 0.87774…
    assert "60,0\u00a0%" in text  # red's churn rate
    assert "10,0\u00a0%" in text  # green's
    assert "Estas medidas separam os clientes que deram churn dos que ficaram" in text
    assert "<strong>Uso</strong>" in text
    assert "Quase sem sinal (AUC a menos de 0,05 de 0,5): Profundidade de uso." in text
    assert "valores menores acompanham o churn" in text
    assert "os pesos ficam como os administradores definiram" in text
