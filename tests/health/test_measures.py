"""The score by hand: weights, a measure left out (no data, stale), band edges, clamping, and the
explanation of a change in words."""

from datetime import date

import pytest
from django.utils import translation

from health.measures import NO_DATA, STALE, Reading, band_of, changes, fell_most, points, score

DAY = date(2026, 6, 30)
CONFIG = {
    "adoption": {"weight": 50, "worst": 0, "best": 100},
    "engagement": {"weight": 30, "worst": 0, "best": 10},
    "relationship": {"weight": 20, "worst": 10, "best": 0},
}


def test_weighted_mean_of_the_points():
    # adoption 60 → 60 points; engagement 5 of 0–10 → 50; relationship 2.5 on 10 (worst) → 0 (best) → 75
    result = score(
        CONFIG,
        {"adoption": Reading(60), "engagement": Reading(5), "relationship": Reading(2.5)},
        day=DAY,
        red_max=50,
        yellow_max=75,
    )
    # (50×60 + 30×50 + 20×75) ÷ 100 = 60
    assert result.score == 60
    assert result.band == "yellow"
    assert result.measures["relationship"]["points"] == 75
    assert result.measures["adoption"]["contribution"] == 30
    assert result.measures["engagement"]["contribution"] == 15
    assert result.measures["relationship"]["contribution"] == 15


def test_a_measure_without_data_is_left_out_and_its_weight_spread():
    result = score(CONFIG, {"adoption": Reading(60), "engagement": Reading(5)}, day=DAY, red_max=50, yellow_max=75)
    # (50×60 + 30×50) ÷ 80 = 56.25
    assert result.score == 56
    assert result.measures["relationship"]["left_out"] == NO_DATA
    assert result.measures["relationship"]["contribution"] is None
    assert result.measures["adoption"]["contribution"] == 37.5
    assert result.measures["engagement"]["contribution"] == 18.75


def test_stale_data_is_left_out():
    config = {"adoption": {"weight": 50, "worst": 0, "best": 100, "fresh_days": 90}, **{"payment": CONFIG["adoption"]}}
    readings = {"adoption": Reading(100, as_of=date(2026, 3, 31)), "payment": Reading(40)}
    result = score(config, readings, day=DAY, red_max=50, yellow_max=75)
    # 91 days old: left out; payment alone → 40
    assert result.measures["adoption"]["left_out"] == STALE
    assert result.score == 40
    fresh = score(
        config, {**readings, "adoption": Reading(100, as_of=date(2026, 4, 1))}, day=DAY, red_max=50, yellow_max=75
    )
    assert fresh.measures["adoption"]["left_out"] == ""
    assert fresh.score == 70


def test_no_data_at_all_is_no_score_never_zero():
    result = score(CONFIG, {}, day=DAY, red_max=50, yellow_max=75)
    assert result.score is None
    assert result.band == ""


@pytest.mark.parametrize(
    ("raw", "expected_score", "band"),
    [(50, 50, "red"), (50.4, 50, "red"), (50.5, 51, "yellow"), (75, 75, "yellow"), (75.5, 76, "green")],
)
def test_band_edges(raw, expected_score, band):
    result = score({"adoption": CONFIG["adoption"]}, {"adoption": Reading(raw)}, day=DAY, red_max=50, yellow_max=75)
    assert (result.score, result.band) == (expected_score, band)


def test_points_are_linear_and_clamped_both_ways():
    assert points(130, 0, 100) == 100
    assert points(-5, 0, 100) == 0
    assert points(45, 90, 21) == pytest.approx(100 * 45 / 69)  # fewer days since the last touch is better
    assert points(120, 90, 21) == 0
    assert band_of(None, red_max=50, yellow_max=75) == ""


def test_a_change_in_words_measure_by_measure():
    config = {"adoption": {"weight": 60, "worst": 0, "best": 100}, "engagement": {"weight": 40, "worst": 0, "best": 30}}
    before = score(
        config,
        {"adoption": Reading(90, facts={"users": 18, "licences": 20}), "engagement": Reading(30)},
        day=DAY,
        red_max=50,
        yellow_max=75,
    )
    after = score(
        config,
        {"adoption": Reading(45, facts={"users": 9, "licences": 20}), "engagement": Reading(30)},
        day=DAY,
        red_max=50,
        yellow_max=75,
    )
    assert (before.score, after.score) == (94, 67)
    with translation.override("en"):
        words = changes(before.measures, after.measures)
        assert [c.text for c in words] == [
            "Usage −27: 18 active users a day of 20 licences → 9 active users a day of 20 licences"
        ]
        assert fell_most(before.measures, after.measures).key == "adoption"
    with translation.override("pt-br"):
        assert changes(before.measures, after.measures)[0].text.startswith("Uso −27: 18 usuários ativos por dia")


def test_a_measure_that_went_out_is_named_with_the_reason():
    config = {
        "survey": {"weight": 50, "worst": 0, "best": 100, "fresh_days": 180},
        "engagement": {"weight": 50, "worst": 0, "best": 30},
    }
    # before: survey 80 points (contributes 40) and engagement 15 of 30 → 50 points (25): 65
    before = score(
        config, {"survey": Reading(80, as_of=DAY), "engagement": Reading(15)}, day=DAY, red_max=50, yellow_max=75
    )
    # after: no answer, engagement alone carries the whole weight: 50
    after = score(config, {"survey": Reading(None), "engagement": Reading(15)}, day=DAY, red_max=50, yellow_max=75)
    assert (before.score, after.score) == (65, 50)
    with translation.override("en"):
        texts = [c.text for c in changes(before.measures, after.measures)]
    assert texts == [
        "Surveys −40: latest answers at 80 of 100 → no data",
        "Engagement +25: 15 active days of 30 → 15 active days of 30",
    ]


def test_what_fell_most_is_the_first_fallen_measure_of_the_changes_ties_going_to_the_first_key():
    # rows as stored (only what the words and the points read): usage fell 20, engagement and relationship 10
    # each, the survey rose 5, the payment moved nothing
    def row(contribution, raw):
        return {"contribution": contribution, "raw": raw, "facts": {}}

    before = {
        "relationship": row(20, 3),
        "engagement": row(30, 20),
        "adoption": {"contribution": 40, "raw": 80, "facts": {"users": 16, "licences": 20}},
        "survey": row(5, 50),
        "payment": row(10, 0),
    }
    after = {
        "relationship": row(10, 40),
        "engagement": row(20, 12),
        "adoption": {"contribution": 20, "raw": 40, "facts": {"users": 8, "licences": 20}},
        "survey": row(10, 100),
        "payment": row(10, 0),
    }
    with translation.override("en"):
        every = changes(before, after)
        assert [(c.key, c.delta) for c in every] == [
            ("adoption", -20),
            ("engagement", -10),
            ("relationship", -10),
            ("survey", 5),
        ]
        assert fell_most(before, after) == every[0]
        # without usage's fall, engagement and relationship fell as much: the first by key, as changes() lists them
        before["adoption"] = after["adoption"]
        assert fell_most(before, after) == changes(before, after)[0]
        assert fell_most(before, after).key == "engagement"
        assert fell_most(before, after).text == "Engagement −10: 20 active days of 30 → 12 active days of 30"
        # and nothing fell: none
        assert fell_most(after, after) is None
        assert fell_most({}, {}) is None
