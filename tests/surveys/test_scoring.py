"""Survey scores against cases computed by hand (DOMAIN.md's survey table), and the eNPS minimum."""

from decimal import Decimal

import pytest

from surveys import scoring
from surveys.models import SurveyKind
from surveys.results import survey_results
from surveys.scoring import summarise
from surveys.selectors import Scope
from tests.surveys.test_results import answered_by_employee, make_campaign

# --- NPS: % promoters (9–10) − % detractors (0–6) ---------------------------------------------------------


def test_nps_of_nothing_is_undefined():
    result = scoring.nps([])
    assert (result.count, result.score, result.zone) == (0, None, None)


def test_nps_counts_promoters_passives_and_detractors():
    # 10, 9 promoters; 8, 7 passives; 6, 0 detractors: 2/6 − 2/6 = 0
    result = scoring.nps([10, 9, 8, 7, 6, 0])
    assert (result.promoters, result.passives, result.detractors) == (2, 2, 2)
    assert result.score == Decimal("0.0")


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([10, 10, 10, 10], Decimal("100.0")),  # all promoters
        ([0, 3, 6], Decimal("-100.0")),  # all detractors
        ([7, 8, 7], Decimal("0.0")),  # passives count in the total only
        ([10, 10, 0], Decimal("33.3")),  # 2/3 − 1/3 = 33.33…, shown to one decimal
        ([9, 9, 9, 6, 7, 8, 5], Decimal("14.3")),  # 3/7 − 2/7 = 14.285…
        ([10, 6, 6], Decimal("-33.3")),
    ],
)
def test_nps_score(scores, expected):
    assert scoring.shown(scoring.nps(scores).score) == expected


@pytest.mark.parametrize(
    ("result", "score", "zone"),
    [
        (scoring.NpsResult(count=3, promoters=0, passives=3, detractors=0), Decimal("0.0"), "critica"),  # exactly 0
        (scoring.NpsResult(count=4, promoters=0, passives=0, detractors=4), Decimal("-100.0"), "critica"),
        (scoring.NpsResult(count=1000, promoters=1, passives=999, detractors=0), Decimal("0.1"), "aperfeicoamento"),
        (scoring.NpsResult(count=4, promoters=3, passives=0, detractors=1), Decimal("50.0"), "aperfeicoamento"),  # 50
        (scoring.NpsResult(count=1000, promoters=501, passives=499, detractors=0), Decimal("50.1"), "qualidade"),
        (scoring.NpsResult(count=100, promoters=51, passives=49, detractors=0), Decimal("51.0"), "qualidade"),
        (scoring.NpsResult(count=4, promoters=3, passives=1, detractors=0), Decimal("75.0"), "qualidade"),  # 75
        (scoring.NpsResult(count=25, promoters=19, passives=6, detractors=0), Decimal("76.0"), "excelencia"),
        (scoring.NpsResult(count=2, promoters=2, passives=0, detractors=0), Decimal("100.0"), "excelencia"),
    ],
)
def test_nps_zone_boundaries(result, score, zone):
    assert result.score == score
    assert result.zone == zone


def test_nps_zones_from_answers():
    # 3 promoters, 1 detractor of 4: 75 − 25 = 50 → Aperfeiçoamento; one promoter more: 80 − 20 = 60 → Qualidade
    assert scoring.nps([10, 9, 9, 0]).zone == "aperfeicoamento"
    assert scoring.nps([10, 9, 9, 9, 0]).zone == "qualidade"
    # 21 promoters and 4 passives of 25: 84 → Excelência
    assert scoring.nps([10] * 21 + [8] * 4).score == Decimal("84.0")


# --- CSAT: % in the top two boxes, with the average ------------------------------------------------------


def test_csat_on_one_to_five():
    # top two boxes are 4 and 5: 2 of 5 answers; average 15 / 5
    result = scoring.csat([5, 4, 3, 2, 1], scale_max=5)
    assert (result.count, result.share, result.average) == (5, Decimal("40.0"), Decimal("3.00"))


def test_csat_on_one_to_ten_top_two_is_nine_and_ten():
    # 10 and 9 are satisfied, 8 is not: 2 of 4; average (10 + 9 + 8 + 1) / 4 = 7
    result = scoring.csat([10, 9, 8, 1], scale_max=10)
    assert (result.share, result.average) == (Decimal("50.0"), Decimal("7.00"))
    assert scoring.csat([8, 8, 4], scale_max=10).share == Decimal("0.0")
    assert scoring.csat([4, 4, 4], scale_max=5).share == Decimal("100.0")


def test_csat_average_keeps_its_precision_and_is_shown_to_one_decimal():
    # (5 + 4 + 4) / 3 = 4.333…, and all three are in the top two boxes of 1–5
    result = scoring.csat([5, 4, 4], scale_max=5)
    assert result.average * 3 == pytest.approx(13)
    assert (scoring.shown(result.average), result.share) == (Decimal("4.3"), Decimal("100.0"))
    assert scoring.csat([5, 5, 4, 3, 3, 2], scale_max=5).share == Decimal("50.0")


def test_csat_of_nothing_is_undefined():
    result = scoring.csat([], scale_max=5)
    assert (result.count, result.share, result.average) == (0, None, None)


# --- CES: average and % in the easy boxes (5–7) -----------------------------------------------------------


def test_ces_average_and_share_of_easy_answers():
    # 7 and 5 are easy, 4 and 1 are not: 2 of 4; average 17 / 4
    result = scoring.ces([7, 5, 4, 1])
    assert (result.average, result.share) == (Decimal("4.25"), Decimal("50.0"))
    assert scoring.ces([5, 6, 7]).share == Decimal("100.0")
    assert scoring.ces([1, 2, 3, 4]).share == Decimal("0.0")
    assert scoring.shown(scoring.ces([6, 6, 5]).average) == Decimal("5.7")
    assert scoring.shown(result.average) == Decimal("4.3")  # 4.25, half up


def test_ces_of_nothing_is_undefined():
    result = scoring.ces([])
    assert (result.average, result.share) == (None, None)


# --- CHI: the sum of ten 0/1 criteria, averaged over answers ------------------------------------------------


def test_chi_average_of_sums():
    assert scoring.chi([10, 7, 4]).average == Decimal("7.00")
    assert scoring.chi([3, 4]).average == Decimal("3.50")
    assert scoring.chi([]).average is None


# --- Scoring from counts per score, as the selectors do -----------------------------------------------------


def test_summarise_from_counts_matches_the_answers():
    counts = {10: 3, 9: 2, 8: 1, 3: 2}  # 5 promoters, 2 detractors of 8: 62.5 − 25 = 37.5
    summary = summarise(SurveyKind.NPS, counts)
    assert (summary.count, summary.score, summary.zone) == (8, Decimal("37.5"), "aperfeicoamento")
    csat = summarise(SurveyKind.CSAT, {5: 1, 4: 1, 2: 2}, scale_top=5)
    assert (csat.score, csat.average) == (Decimal("50.0"), Decimal("3.25"))
    ces = summarise(SurveyKind.CES, {7: 1, 2: 1})
    assert (ces.score, ces.share) == (Decimal("4.50"), Decimal("50.0"))
    assert summarise(SurveyKind.NPS, {}).score is None


def test_enps_under_five_answers_is_hidden_by_summarise():
    four = summarise(SurveyKind.ENPS, {10: 4})
    assert four.hidden
    assert (four.score, four.nps, four.zone) == (None, None, None)
    five = summarise(SurveyKind.ENPS, {10: 4, 0: 1})  # 80 − 20
    assert not five.hidden
    assert five.score == Decimal("60.0")


@pytest.mark.django_db
def test_enps_under_five_answers_is_hidden_by_the_selector(org):
    # given an eNPS campaign with four answers
    campaign = make_campaign(SurveyKind.ENPS, actor=org.admin)
    people = [org.csm_a, org.csm_a2, org.ism_a, org.farmer_a, org.leader_a]
    for person, score in zip(people[:4], [10, 9, 3, 8], strict=True):
        answered_by_employee(campaign, person, score)

    # when the admin reads the results
    results = survey_results(org.admin, Scope.of_campaign(campaign))

    # then nothing is shown but the count
    assert results.summary.hidden
    assert results.summary.score is None
    assert results.distribution == []
    assert results.trend == []

    # and the fifth answer shows the score: 3 promoters, 1 detractor of 5 → 60 − 20 = 40
    answered_by_employee(campaign, people[4], 10)
    results = survey_results(org.admin, Scope.of_campaign(campaign))
    assert not results.summary.hidden
    assert results.summary.score == Decimal("40.0")
    assert results.summary.zone == "aperfeicoamento"


# --- Full precision: rounded only where shown -------------------------------------------------------------


@pytest.mark.parametrize(
    ("promoters", "detractors", "count", "zone", "reads"),
    [
        (999, 0, 2000, "aperfeicoamento", "50.0"),  # 49.95: reads 50, still Improvement
        (1000, 0, 2000, "aperfeicoamento", "50.0"),  # exactly 50
        (1001, 0, 2000, "qualidade", "50.1"),  # 50.05
        (2999, 1, 4000, "qualidade", "75.0"),  # 74.95
        (1, 1, 2000, "critica", "0.0"),  # exactly 0
        (1, 0, 2000, "aperfeicoamento", "0.1"),  # 0.05: above 0, though it reads 0.1
        (0, 1, 20000, "critica", "0.0"),  # -0.005: reads 0.0
    ],
)
def test_nps_zone_is_judged_on_the_unrounded_score(promoters, detractors, count, zone, reads):
    result = scoring.NpsResult(
        count=count, promoters=promoters, passives=count - promoters - detractors, detractors=detractors
    )
    assert result.zone == zone
    assert str(scoring.shown(result.score)) == reads


def test_rates_and_averages_keep_their_precision_until_shown():
    assert scoring.pct(1, 3) * 3 == pytest.approx(100)  # not 99.9
    assert scoring.pct(1, 3) != Decimal("33.3")
    assert scoring.shown(scoring.pct(1, 3)) == Decimal("33.3")
    assert scoring.shown(scoring.pct(1, 8)) == Decimal("12.5")
    assert scoring.shown(scoring.pct(1, 16)) == Decimal("6.3")  # 6.25, half up
    assert scoring.shown(None) is None
    # an average of 2.96 (74 ÷ 25) is not 3.0 until it is shown
    summary = scoring.summarise("ces", {3: 24, 2: 1})
    assert summary.average < 3
    assert summary.score_shown == Decimal("3.0")


def test_the_score_shown_on_a_page_is_rounded_there_and_its_zone_is_not(settings):
    from django.template.loader import render_to_string
    from django.utils import translation

    # given an NPS of 49.95 and one of 0.04
    improvement = scoring.summarise("nps", {10: 999, 8: 1001})
    barely = scoring.summarise("nps", {10: 1, 8: 2499})
    with translation.override("pt-br"):
        # when each is shown as the results' tables show it
        shown_improvement = render_to_string("surveys/_score.html", {"s": improvement})
        shown_barely = render_to_string("surveys/_score.html", {"s": barely})

    # then the first reads +50 in the Improvement zone, and the second has no "+": it reads 0
    assert "+50</strong>" in shown_improvement
    assert "Aperfeiçoamento" in shown_improvement
    assert "<strong>0</strong>" in shown_barely
