"""The demo's year of surveys on the demo portfolio: realistic, seeded once, detractors followed up as the
detractor subscriber does it."""

import pytest
from django.utils import timezone

from demo.people import demo_user, seed_people
from demo.portfolio import seed_portfolio
from demo.surveys import NPS_NAME, seed_surveys
from portfolio.models import Activity, Task, TaskStatus
from surveys.answers import FOLLOW_UP_BUSINESS_DAYS, add_business_days
from surveys.models import AnswerTally, Campaign, Delivery, Response, SurveyKind
from surveys.results import survey_results
from surveys.selectors import Scope

# The portfolio's history is replayed with a commit per step.
pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_history_is_realistic_and_seeded_once():
    assert seed_surveys(customers=0) == ["surveys: none asked for"]
    seed_people()
    seed_portfolio(customers=25)

    lines = seed_surveys()

    assert len(lines) == 7
    assert lines[-1].startswith("surveys: tallies built (")
    assert AnswerTally.objects.exists()
    nps = Campaign.objects.get(name=NPS_NAME)
    months = {timezone.localtime(r.answered_at).strftime("%Y-%m") for r in nps.responses.all()}
    assert len(months) >= 6
    assert nps.responses.exclude(comment="").exists()
    assert {SurveyKind.NPS, SurveyKind.CSAT, SurveyKind.CES, SurveyKind.ENPS, SurveyKind.CHI} <= set(
        Campaign.objects.values_list("kind", flat=True)
    )
    enps = Campaign.objects.get(kind=SurveyKind.ENPS)
    assert not survey_results(demo_user("admin"), Scope.of_kind(SurveyKind.ENPS)).summary.hidden
    assert not survey_results(demo_user("mariana"), Scope.of_campaign(enps)).summary.hidden
    assert survey_results(demo_user("mariana"), Scope.of_campaign(enps)).summary.count >= 5
    follow_ups = Task.objects.filter(origin="detractor")
    assert follow_ups.exists()
    assert all(t.origin_key.startswith("survey-response:") for t in follow_ups)
    assert Response.objects.filter(loop_closed_at__isnull=False).exists()
    assert not Delivery.objects.filter(token_salt="").exists()
    # every customer answer is on its customer's timeline, as a real answer would be; eNPS on none
    customer_answers = Response.objects.filter(customer__isnull=False)
    entries = Activity.objects.filter(kind="survey")
    assert sorted(entries.values_list("data__response", flat=True)) == sorted(
        customer_answers.values_list("pk", flat=True)
    )
    assert not entries.filter(data__kind=SurveyKind.ENPS).exists()
    # and each counts for the CSM, segment and plan of its day
    assert not customer_answers.filter(segment="").exists()
    assert customer_answers.filter(csm__isnull=False).exists()

    counts = (Campaign.objects.count(), Delivery.objects.count(), Response.objects.count(), follow_ups.count())
    assert seed_surveys() == ["surveys: demo surveys already there"]
    assert (Campaign.objects.count(), Delivery.objects.count(), Response.objects.count(), follow_ups.count()) == counts


def test_detractor_follow_ups_are_dated_from_the_answer_and_closed_with_the_loop():
    seed_people()
    seed_portfolio(customers=25)

    seed_surveys()

    answered = list(Response.objects.filter(follow_up_task_id__isnull=False))
    tasks = Task.objects.in_bulk([r.follow_up_task_id for r in answered])
    assert answered
    for response in answered:
        task = tasks[response.follow_up_task_id]
        answered_on = timezone.localdate(response.answered_at)
        assert task.due_date == add_business_days(answered_on, FOLLOW_UP_BUSINESS_DAYS)
        assert task.created_at == response.answered_at
        assert (task.status == TaskStatus.DONE) == (response.loop_closed_at is not None)
        assert task.completed_at == response.loop_closed_at
