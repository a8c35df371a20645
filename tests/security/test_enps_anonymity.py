"""eNPS stays anonymous in every channel: the API gives the month of an answer and nothing finer (no timestamp,
no id that follows the order answers came in, no ordering or filtering by time, no mixing with timed customer
answers) and refuses filters that leave fewer than the minimum of answers; the results page lists comments in
an order that says nothing about time; the CSV gives the month only."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from surveys.models import SurveyKind
from surveys.scoring import ENPS_MIN_ANSWERS
from tests.factories import UserFactory
from tests.portfolio.factories import CustomerFactory
from tests.surveys.test_results import answered, answered_by_employee, make_campaign

pytestmark = pytest.mark.django_db

API = "/api/v1/survey-responses/"
MOMENT = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # 09:00 in São Paulo


@pytest.fixture
def enps(org):
    """Team A's six people answer in the order 9, 3, 10, 6, 8, 7, a few minutes apart; team B's two answer too."""
    campaign = make_campaign(SurveyKind.ENPS, actor=org.admin, name="eNPS da empresa")
    people = [org.leader_a, org.csm_a, org.csm_a2, org.ism_a, org.farmer_a, UserFactory(team=org.team_a)]
    for minute, (person, score) in enumerate(zip(people, [9, 3, 10, 6, 8, 7], strict=True)):
        answered_by_employee(
            campaign, person, score, comment=f"comentário {score}", answered_at=MOMENT + timedelta(minutes=minute)
        )
    for minute, person in enumerate([org.leader_b, org.csm_b]):
        answered_by_employee(campaign, person, 5, answered_at=MOMENT + timedelta(hours=1, minutes=minute))
    return campaign


def listed(api, **params):
    return api.get(API, {"kind": "enps", **params})


def test_enps_rows_carry_the_month_and_no_timestamp_or_id(org, enps, api_for):
    rows = listed(api_for(org.admin)).json()["results"]

    assert len(rows) == 8
    assert {(r["id"], r["answered_at"], r["updated_at"], r["loop_closed_at"]) for r in rows} == {(None,) * 4}
    assert {r["answered_month"] for r in rows} == {"2026-11"}


def test_enps_rows_are_not_listed_in_the_order_they_came_in(org, enps, api_for):
    rows = listed(api_for(org.admin)).json()["results"]

    assert [r["score"] for r in rows] == [3, 5, 5, 6, 7, 8, 9, 10]


@pytest.mark.parametrize("ordering", ["answered_at", "-answered_at", "score,answered_at", "id", "-pk"])
def test_enps_cannot_be_ordered_by_time(org, enps, api_for, ordering):
    response = listed(api_for(org.leader_a), ordering=ordering)

    assert response.status_code == 400
    assert "ordering" in response.json()


def test_enps_can_be_ordered_by_score(org, enps, api_for):
    response = listed(api_for(org.admin), ordering="-score")

    assert response.status_code == 200
    assert [r["score"] for r in response.json()["results"]] == [10, 9, 8, 7, 6, 5, 5, 3]


@pytest.mark.parametrize(
    ("after", "before"),
    [("2026-11-10T09:00:00-03:00", ""), ("", "2026-11-10T09:03:00-03:00"), ("2026-11-02T00:00:00-03:00", "")],
)
def test_enps_cannot_be_filtered_by_less_than_a_month(org, enps, api_for, after, before):
    params = {k: v for k, v in {"answered_after": after, "answered_before": before}.items() if v}

    response = listed(api_for(org.admin), **params)

    assert response.status_code == 400
    assert set(response.json()) <= {"answered_after", "answered_before"}


def test_enps_can_be_filtered_by_whole_months(org, enps, api_for, settings):
    settings.TIME_ZONE = "America/Sao_Paulo"
    response = listed(
        api_for(org.admin), answered_after="2026-11-01T00:00:00-03:00", answered_before="2026-12-01T00:00:00-03:00"
    )

    assert response.status_code == 200
    assert response.json()["count"] == 8


def test_a_filter_that_leaves_fewer_than_the_minimum_is_refused(org, enps, api_for):
    api = api_for(org.admin)

    small_team = listed(api, team=org.team_b.pk)
    big_team = listed(api, team=org.team_a.pk)
    one_score = listed(api, campaign=enps.pk, team=org.team_a.pk, ordering="score")

    assert ENPS_MIN_ANSWERS > 2
    assert small_team.status_code == 400
    assert "detail" in small_team.json()
    assert big_team.status_code == 200
    assert big_team.json()["count"] == 6
    assert one_score.status_code == 200


def test_enps_answers_never_mix_with_timed_customer_answers(org, enps, api_for):
    nps = make_campaign(SurveyKind.NPS, actor=org.admin)
    answered(nps, CustomerFactory(owner=org.csm_a), 9)

    rows = api_for(org.admin).get(API, {"ordering": "answered_at"}).json()["results"]

    assert [r["kind"] for r in rows] == ["nps"]


def test_an_enps_answer_cannot_be_fetched_by_its_id(org, enps, api_for):
    response = enps.responses.first()

    assert api_for(org.admin).get(f"{API}{response.pk}/").status_code == 404


def test_the_results_page_lists_enps_comments_by_score_not_by_time(org, enps, client_for):
    page = client_for(org.admin).get(f"/surveys/{enps.pk}/")

    comments = page.context["comment_page"].comments
    assert [c.score for c in comments] == [3, 6, 7, 8, 9, 10]


def test_the_csv_gives_the_month_only(org, enps, client_for):
    response = client_for(org.admin).get(f"/surveys/{enps.pk}/export.csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["answered_month", "campaign", "score", "comment"]
    assert {row[0] for row in rows[1:]} == {"2026-11"}
