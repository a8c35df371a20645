"""Survey tallies (surveys.tallies): results counted from the tallies are the results counted live, for every
kind, scope and person; when they are used and when not; and what the page says about them."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from surveys import tallies
from surveys.campaign_counts import campaign_list
from surveys.models import AnswerTally, CampaignStatus, DeliveryStatus, Response, SurveyKind, TallyBuild
from surveys.results import survey_results
from surveys.scoring import shown
from surveys.selectors import Scope
from surveys.services_chi import chi_assessment_record
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_chi import chi as chi_campaign  # noqa: F401 - fixture
from tests.surveys.test_chi import (
    criteria,  # noqa: F401 - fixture
    csm_answers,
    customer_answers,
)
from tests.surveys.test_results import answered, answered_by_employee, delivery_for, make_campaign

pytestmark = pytest.mark.django_db

ALWAYS, NEVER = 0, 10**9


def months_ago(n: int, day: int = 10):
    """A moment in the n-th month before this one (local time), away from month edges."""
    first = timezone.localdate().replace(day=1)
    for _i in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
    return timezone.make_aware(datetime.combine(first.replace(day=day), datetime.min.time()))


@pytest.fixture
def surveyed(org, chi_campaign):  # noqa: F811 - the fixture imported above
    """Customers of both teams, an ISM's customer with no owner yet, answers over several months to NPS, CSAT
    on both scales, CES and CHI, unsent and bounced deliveries, and an eNPS campaign."""
    people = {
        "a1": CustomerFactory(owner=org.csm_a, segment="enterprise", plan_tier="business"),
        "a2": CustomerFactory(owner=org.csm_a2, segment="smb", service_model="tech"),
        "b1": CustomerFactory(owner=org.csm_b, segment="mid"),
        "ism": CustomerFactory(owner=None, implementation_manager=org.ism_a, segment="mid"),
    }
    nps = make_campaign(SurveyKind.NPS, actor=org.admin, name="NPS")
    csat5 = make_campaign(SurveyKind.CSAT, actor=org.admin, name="CSAT 5", scale_max=5)
    csat10 = make_campaign(SurveyKind.CSAT, actor=org.admin, name="CSAT 10", scale_max=10)
    ces = make_campaign(SurveyKind.CES, actor=org.admin, name="CES")
    enps = make_campaign(SurveyKind.ENPS, actor=org.admin, name="eNPS")
    plan = [
        (nps, "a1", [10, 9, 6, 0], 0),
        (nps, "a2", [8, 7, 3], 2),
        (nps, "b1", [10, 10, 4], 5),
        (nps, "ism", [9, 2], 1),
        (csat5, "a1", [5, 4, 1], 0),
        (csat5, "b1", [3, 2], 3),
        (csat10, "a2", [10, 6], 1),
        (ces, "a1", [7, 5, 2], 4),
        (ces, "ism", [6], 0),
    ]
    for campaign, key, scores, month in plan:
        for n, score in enumerate(scores):
            when = months_ago((month + n) % 7)
            answered(campaign, people[key], score, answered_at=when)
    for key in ("a1", "b1", "ism"):  # sent and not answered, planned and not sent, bounced
        delivery_for(nps, contact=ContactFactory(customer=people[key]), sent_at=months_ago(1))
        delivery_for(nps, contact=ContactFactory(customer=people[key]), status=DeliveryStatus.PENDING)
        delivery_for(nps, contact=ContactFactory(customer=people[key]), status=DeliveryStatus.BOUNCED)
    for person, score in [(org.csm_a, 9), (org.csm_a2, 10), (org.leader_a, 6), (org.csm_b, 7), (org.ism_a, 8)]:
        answered_by_employee(enps, person, score)
    # some detractors followed up, each after its own time (minutes too), others still waiting
    low = Response.objects.filter(customer__isnull=False, score__lte=4).exclude(kind=SurveyKind.CHI).order_by("pk")
    for n, response in enumerate(low):
        if n % 3 != 2:
            response.loop_closed_at = response.answered_at + timedelta(hours=n + 1, minutes=7 * n, seconds=n)
            response.save(update_fields=["loop_closed_at"])
    customer_answers(chi_campaign, people["a1"], yes=4)
    customer_answers(chi_campaign, people["b1"], yes=6)
    chi_assessment_record(campaign=chi_campaign, customer=people["a1"], answers=csm_answers(3), actor=org.csm_a)
    chi_assessment_record(campaign=chi_campaign, customer=people["a2"], answers=csm_answers(2), actor=org.csm_a2)
    return {"nps": nps, "csat5": csat5, "csat10": csat10, "ces": ces, "enps": enps, "chi": chi_campaign}


def scopes(campaigns: dict) -> list[Scope]:
    since = months_ago(2, day=1)
    return [
        *(Scope.of_campaign(c) for c in campaigns.values()),
        Scope.of_kind(SurveyKind.NPS),
        Scope.of_kind(SurveyKind.NPS, since=since),
        Scope.of_kind(SurveyKind.CSAT, scale=5),
        Scope.of_kind(SurveyKind.CSAT, scale=10, since=since),
        Scope.of_kind(SurveyKind.CES, since=since),
        Scope.of_kind(SurveyKind.CHI),
        Scope.of_kind(SurveyKind.CHI, since=since),
    ]


def readers(org) -> list:
    return [org.admin, org.leader_a, org.leader_b, org.csm_a, org.csm_b, org.ism_a, org.viewer_a, org.viewer_all]


def test_results_from_the_tallies_are_the_results_counted_live(org, surveyed, settings):
    # given the tallies built from every answer and delivery
    built = tallies.rebuild()
    assert built["answer_rows"] > 0
    assert built["delivery_rows"] > 0

    for user in readers(org):
        for scope in scopes(surveyed):
            # when the same results are counted live and from the tallies
            settings.LEME_SURVEY_TALLIES_FROM = NEVER
            live = survey_results(user, scope)
            settings.LEME_SURVEY_TALLIES_FROM = ALWAYS
            user.__dict__.pop("_leme_visible_customers", None)
            tallied = survey_results(user, scope)

            # then everything on the page is the same, and only the tallied ones say when they were counted
            where = f"{user.email} {scope}"
            assert live.as_of is None, where
            assert (tallied.as_of is not None) == (scope.kind != SurveyKind.ENPS), where
            assert tallied.summary == live.summary, where
            assert (tallied.sent, tallied.answered) == (live.sent, live.answered), where
            assert tallied.distribution == live.distribution, where
            assert tallied.band_counts == live.band_counts, where
            assert tallied.trend == live.trend, where
            assert tallied.slices == live.slices, where
            assert tallied.loop == live.loop, where


def test_closed_loops_from_the_tallies_are_the_closed_loops_counted_live(org, surveyed, settings):
    tallies.rebuild()
    settings.LEME_SURVEY_TALLIES_FROM = NEVER
    live = survey_results(org.admin, Scope.of_kind(SurveyKind.NPS))
    settings.LEME_SURVEY_TALLIES_FROM = ALWAYS
    tallied = survey_results(org.admin, Scope.of_kind(SurveyKind.NPS))
    assert tallied.as_of is not None
    # NPS detractors (≤ 6): 6, 0, 3, 4, 2; the 6 still waits, and of the four ≤ 4 (every third one left open) 3 closed
    assert (live.loop.detractors, live.loop.open) == (5, 2)
    assert live.loop.closed == 3
    assert live.loop.avg_hours is not None
    assert tallied.loop == live.loop


def test_the_campaign_list_from_the_tallies_is_the_list_counted_live(org, surveyed, settings):
    tallies.rebuild()
    for user in readers(org):
        settings.LEME_SURVEY_TALLIES_FROM = NEVER
        live = campaign_list(user)
        settings.LEME_SURVEY_TALLIES_FROM = ALWAYS
        user.__dict__.pop("_leme_visible_customers", None)
        assert campaign_list(user) == live, user.email


def test_the_numbers_themselves_for_a_leader(org, surveyed, settings):
    # leader A sees the customers of team A (csm_a, csm_a2) and the ISM's customer with no owner
    settings.LEME_SURVEY_TALLIES_FROM = ALWAYS
    tallies.rebuild()

    results = survey_results(org.leader_a, Scope.of_campaign(surveyed["nps"]))

    # 9 answers: promoters 10, 9, 9 (3), detractors 6, 0, 3, 2 (4), passives 8, 7 -> (3 - 4) / 9 = -11.1
    assert results.as_of is not None
    assert results.summary.count == 9
    assert str(shown(results.summary.score)) == "-11.1"
    # sent: 9 answered + 2 sent and unanswered (a1, ism); bounced ones were sent too
    assert (results.sent, results.answered) == (13, 9)
    by_csm = {row.label: row.summary.count for row in next(s for s in results.slices if s.key == "csm").rows}
    assert by_csm == {org.csm_a.full_name: 4, org.csm_a2.full_name: 3, "Sem CSM": 2}


def test_small_scopes_stale_builds_and_no_build_are_counted_live(org, surveyed, settings):
    scope = Scope.of_campaign(surveyed["nps"])
    settings.LEME_SURVEY_TALLIES_FROM = ALWAYS

    # no build yet: live, without even counting the customers
    assert survey_results(org.leader_a, scope).as_of is None

    # a build older than the maximum age: live
    tallies.rebuild(now=timezone.now() - timedelta(seconds=settings.LEME_SURVEY_TALLIES_MAX_AGE + 60))
    assert survey_results(org.leader_a, scope).as_of is None

    # a fresh build, for someone who sees fewer customers than the threshold: live
    tallies.rebuild()
    settings.LEME_SURVEY_TALLIES_FROM = 3
    assert survey_results(org.csm_a, scope).as_of is None  # csm_a sees one customer
    # and for someone who sees at least that many (team A's two customers and the ISM's): tallied
    assert survey_results(org.leader_a, scope).as_of is not None
    settings.LEME_SURVEY_TALLIES_FROM = -1
    assert survey_results(org.admin, scope).as_of is None


def test_an_answer_after_the_build_shows_at_the_next_build(org, surveyed, settings):
    settings.LEME_SURVEY_TALLIES_FROM = ALWAYS
    tallies.rebuild()
    scope = Scope.of_campaign(surveyed["nps"])
    before = survey_results(org.admin, scope).summary.count

    answered(surveyed["nps"], CustomerFactory(owner=org.csm_b), 10)
    assert survey_results(org.admin, scope).summary.count == before

    tallies.rebuild()
    assert survey_results(org.admin, scope).summary.count == before + 1


def test_a_rebuild_replaces_the_last_one(org, surveyed):
    first = tallies.rebuild()
    second = tallies.rebuild()
    assert AnswerTally.objects.count() == first["answer_rows"] == second["answer_rows"]
    assert TallyBuild.objects.count() == 1


def test_the_results_page_says_when_the_figures_were_counted(org, surveyed, settings, client_for):
    settings.LEME_SURVEY_TALLIES_FROM = ALWAYS
    tallies.rebuild(now=timezone.now())

    page = client_for(org.leader_a).get(f"/surveys/{surveyed['nps'].pk}/")
    live_page = client_for(org.csm_a).get(f"/surveys/{surveyed['nps'].pk}/")

    assert page.status_code == 200
    assert "Contado às" in page.content.decode()
    settings.LEME_SURVEY_TALLIES_FROM = NEVER
    assert "Contado às" not in client_for(org.leader_a).get("/surveys/results/nps/").content.decode()
    assert live_page.status_code == 200


def test_the_beat_rebuilds_the_tallies_every_five_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["surveys.tallies_rebuild"]
    assert entry == {"task": "surveys.tasks.tallies_rebuild", "schedule": 300, "options": {"expires": 240}}


def test_closing_a_campaign_keeps_its_tallies(org, surveyed, settings):
    settings.LEME_SURVEY_TALLIES_FROM = ALWAYS
    campaign = surveyed["ces"]
    campaign.status = CampaignStatus.CLOSED
    campaign.save(update_fields=["status"])
    tallies.rebuild()
    assert survey_results(org.admin, Scope.of_campaign(campaign)).summary.count == 4
    assert campaign_list(org.admin, kind=SurveyKind.CES)[0].summary.count == 4
