"""Answering a survey: the rules in surveys.answers (recording, updating, detractors, closing the loop,
opting out)."""

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from core.events import recorded
from playbooks.models import Run
from playbooks.subscribers import playbooks_on_detractor
from portfolio import events as portfolio_events
from portfolio import services as portfolio_services
from portfolio.models import Activity, Task, TaskStatus
from portfolio.selectors import my_day
from surveys import answers, tokens
from surveys.events import DetractorAnswered
from surveys.models import CampaignStatus, ChiCriterion, Delivery, Response
from surveys.results import loop_close_stats
from surveys.services import campaign_close, campaign_create
from tests.factories import UserFactory
from tests.portfolio.factories import ContactFactory, CustomerFactory

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


# --- Helpers shared by the survey answer tests (the sending side's factories are built separately) --------


def make_campaign(kind: str = "nps", *, scale_max: int = 10, actor=None, **kwargs):
    """An active campaign, created through the service by an admin."""
    actor = actor or UserFactory(role=Role.ADMIN)
    campaign = campaign_create(name=f"{kind} campaign", kind=kind, actor=actor, scale_max=scale_max, **kwargs)
    campaign.status = CampaignStatus.ACTIVE
    campaign.save(update_fields=["status"])
    return campaign


def make_delivery(campaign, *, contact=None, employee=None, language="pt-br", expires_in=timedelta(days=30)):
    """A sent delivery and the token its email carried."""
    salt, token_hash = tokens.salt_and_hash()
    now = timezone.now()
    delivery = Delivery.objects.create(
        campaign=campaign,
        contact=contact,
        employee=employee,
        team=employee.team if employee else None,
        customer=contact.customer if contact else None,
        email=contact.email if contact else employee.email,
        language=language,
        token_salt=salt,
        token_hash=token_hash,
        status="sent",
        sent_at=now,
        expires_at=now + expires_in,
    )
    return delivery, tokens.token_for(salt)


def survey_entries(customer):
    return Activity.objects.filter(customer=customer, kind="survey")


@pytest.fixture
def customer(org):
    return CustomerFactory(name="Padaria Pão Dourado", owner=org.csm_a)


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Ana Souza", language="pt-br")


@pytest.fixture
def nps(contact):
    campaign = make_campaign("nps")
    delivery, _ = make_delivery(campaign, contact=contact)
    return delivery


# --- Recording and updating --------------------------------------------------------------------------------


def test_answer_is_recorded_with_its_comment_and_appears_on_the_timeline(nps, customer):
    response = answers.answer_record(delivery=nps, score=3, comment="  O suporte demorou uma semana.  ")

    assert (response.score, response.comment, response.kind) == (3, "O suporte demorou uma semana.", "nps")
    assert response.customer == customer
    entry = survey_entries(customer).get()
    assert entry.title.startswith("NPS 3 — ")
    assert "Ana Souza" in entry.title
    assert entry.body == "O suporte demorou uma semana."
    assert entry.author is None
    assert entry.data["response"] == response.pk


def test_answering_again_updates_the_same_response_and_logs_the_change(nps, customer):
    first = answers.answer_record(delivery=nps, score=3, comment="Ruim")

    second = answers.answer_record(delivery=nps, score="8", comment="Pensando melhor, ok")

    assert Response.objects.count() == 1
    assert second.pk == first.pk
    second.refresh_from_db()
    assert (second.score, second.comment) == (8, "Pensando melhor, ok")
    assert second.answered_at == first.answered_at
    assert second.updated_at >= first.updated_at
    latest = survey_entries(customer).order_by("-pk").first()
    assert survey_entries(customer).count() == 2
    assert latest.data["previous_score"] == 3
    assert "3" in latest.title


@pytest.mark.parametrize("score", [-1, 11, "abc", "", None, "3.5", "+3", " ", True])
def test_nps_refuses_what_is_not_a_score_from_0_to_10(nps, score):
    with pytest.raises(ValidationError) as error:
        answers.answer_record(delivery=nps, score=score, comment="")

    assert "score" in error.value.message_dict
    assert Response.objects.count() == 0


@pytest.mark.parametrize("score", [0, "0", 10])
def test_nps_accepts_the_ends_of_its_scale(nps, score):
    assert answers.answer_record(delivery=nps, score=score).score == int(score)


@pytest.mark.parametrize(
    ("kind", "scale_max", "bad", "good"),
    [
        ("csat", 5, [0, 6], [1, 5]),
        ("csat", 10, [0, 11], [1, 10]),
        ("ces", 7, [0, 8], [1, 7]),
        ("enps", 10, [-1, 11], [0, 10]),
    ],
)
def test_each_kind_checks_its_own_scale(customer, org, kind, scale_max, bad, good):
    campaign = make_campaign(kind, scale_max=scale_max)

    def delivery():
        if kind == "enps":
            return make_delivery(campaign, employee=UserFactory(team=org.team_a))[0]
        return make_delivery(campaign, contact=ContactFactory(customer=customer))[0]

    for score in bad:
        with pytest.raises(ValidationError):
            answers.answer_record(delivery=delivery(), score=score)
    for score in good:
        assert answers.answer_record(delivery=delivery(), score=score).score == score


def test_a_too_long_comment_is_refused(nps):
    with pytest.raises(ValidationError) as error:
        answers.answer_record(delivery=nps, score=9, comment="x" * (answers.COMMENT_MAX_LENGTH + 1))

    assert "comment" in error.value.message_dict


def test_chi_scores_the_number_of_yes_and_keeps_each_answer(contact):
    ChiCriterion.objects.create(position=1, text_pt="Usa o produto toda semana", text_en="Uses it weekly")
    ChiCriterion.objects.create(position=2, text_pt="Indicou a um amigo", text_en="Referred a friend")
    ChiCriterion.objects.create(position=3, text_pt="Pagou em dia", text_en="Paid on time", answered_by="csm")
    delivery, _ = make_delivery(make_campaign("chi"), contact=contact)

    response = answers.answer_record(delivery=delivery, score=None, chi_answers={"1": "yes", "2": "no"})

    assert response.score == 1
    assert response.chi_answers == {"1": 1, "2": 0}


def test_chi_refuses_an_unanswered_criterion(contact):
    ChiCriterion.objects.create(position=1, text_pt="Usa o produto toda semana", text_en="Uses it weekly")
    ChiCriterion.objects.create(position=2, text_pt="Indicou a um amigo", text_en="Referred a friend")
    delivery, _ = make_delivery(make_campaign("chi"), contact=contact)

    with pytest.raises(ValidationError) as error:
        answers.answer_record(delivery=delivery, score=None, chi_answers={"1": "yes", "2": ""})

    assert "chi" in error.value.message_dict


def test_enps_is_anonymous_no_customer_no_timeline_no_task(org, customer, django_capture_on_commit_callbacks):
    delivery, _ = make_delivery(make_campaign("enps"), employee=org.csm_a)

    with django_capture_on_commit_callbacks(execute=True):
        response = answers.answer_record(delivery=delivery, score=2, comment="Muita pressão")

    assert response.customer is None
    assert Activity.objects.filter(kind="survey").count() == 0
    assert Task.objects.filter(origin="playbook").count() == 0


# --- The link ----------------------------------------------------------------------------------------------


def test_a_token_finds_its_delivery(nps):
    delivery = Delivery.objects.get(pk=nps.pk)
    token = tokens.token_for(delivery.token_salt)

    assert answers.delivery_from_token(token) == delivery


@pytest.mark.parametrize("token", ["", "nope", "a" * 43, "a" * 500])
def test_an_unknown_token_is_refused(nps, token):
    with pytest.raises(answers.LinkUnknown):
        answers.delivery_from_token(token)


def test_an_expired_link_is_refused_for_answers_but_not_for_opting_out(contact):
    delivery, token = make_delivery(make_campaign(), contact=contact, expires_in=timedelta(seconds=-1))

    with pytest.raises(answers.LinkExpired):
        answers.delivery_from_token(token)
    with pytest.raises(answers.LinkExpired):
        answers.answer_record(delivery=delivery, score=9)
    assert answers.delivery_from_token(token, check_open=False) == delivery


def test_a_closed_campaign_stops_its_links(nps):
    token = tokens.token_for(nps.token_salt)
    campaign_close(campaign=nps.campaign, actor=None)

    with pytest.raises(answers.CampaignClosed):
        answers.delivery_from_token(token)
    with pytest.raises(answers.CampaignClosed):
        answers.answer_record(delivery=nps, score=9)


def test_a_delivery_without_expiry_falls_back_to_the_campaign_setting(contact):
    campaign = make_campaign(expires_after_days=30)
    delivery, token = make_delivery(campaign, contact=contact)
    Delivery.objects.filter(pk=delivery.pk).update(expires_at=None, sent_at=timezone.now() - timedelta(days=31))

    with pytest.raises(answers.LinkExpired):
        answers.delivery_from_token(token)


# --- Detractors: the follow-up task and closing the loop -----------------------------------------------------


FRIDAY_AFTERNOON = datetime(2026, 11, 27, 16, 30, tzinfo=SAO_PAULO)


def test_a_detractor_on_friday_gets_one_task_for_the_csm_due_tuesday(
    nps, org, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = answers.answer_record(delivery=nps, score=3, comment="Demora no suporte", now=FRIDAY_AFTERNOON)
    with django_capture_on_commit_callbacks(execute=True):
        answers.answer_record(delivery=nps, score=2, comment="Piorou", now=FRIDAY_AFTERNOON + timedelta(hours=1))

    task = Task.objects.get(customer=customer, origin="playbook")
    assert task.owner == org.csm_a
    assert task.due_date == date(2026, 12, 1)  # Tuesday
    run = Run.objects.get(playbook__key="detractor-recovery", customer=customer)
    assert task.origin_key == f"playbook:{run.pk}:0"
    assert task.title == f"Ligar para {nps.contact.name} ({customer.name}): NPS 3, detrator"
    assert task.notes == "Demora no suporte"
    assert task.status == TaskStatus.OPEN
    response.refresh_from_db()
    assert response.follow_up_task_id == task.pk
    assert task in my_day(org.csm_a, today=date(2026, 12, 1))["tasks"]


def test_the_follow_up_is_idempotent(nps, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = answers.answer_record(delivery=nps, score=0)

    # the event delivered again (a retried job)
    playbooks_on_detractor(
        DetractorAnswered(
            response_id=response.pk,
            campaign_id=response.campaign_id,
            kind=response.kind,
            score=0,
            customer_id=response.customer_id,
            contact_id=nps.contact_id,
            answered_on=timezone.localdate(response.answered_at),
        )
    )

    task = Task.objects.get(origin="playbook")
    assert task.pk == Response.objects.get().follow_up_task_id


def test_without_a_csm_the_implementation_manager_follows_up(org, django_capture_on_commit_callbacks):
    customer = CustomerFactory(implementation_manager=org.ism_a)
    delivery, _ = make_delivery(make_campaign(), contact=ContactFactory(customer=customer))

    with django_capture_on_commit_callbacks(execute=True):
        answers.answer_record(delivery=delivery, score=4)

    assert Task.objects.get(origin="playbook").owner == org.ism_a


@pytest.mark.parametrize("score", [7, 8, 9, 10])
def test_passives_and_promoters_create_no_task(nps, score, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answers.answer_record(delivery=nps, score=score)

    assert not Task.objects.filter(origin="playbook").exists()


@pytest.mark.parametrize(("kind", "scale_max", "score", "task"), [("csat", 5, 2, True), ("csat", 5, 3, False)])
def test_csat_detractors_follow_the_scoring_rule(
    contact, kind, scale_max, score, task, django_capture_on_commit_callbacks
):
    delivery, _ = make_delivery(make_campaign(kind, scale_max=scale_max), contact=contact)

    with django_capture_on_commit_callbacks(execute=True):
        answers.answer_record(delivery=delivery, score=score)

    assert Task.objects.filter(origin="playbook").exists() is task


def test_a_call_logged_after_the_answer_closes_the_loop(
    nps, org, customer, contact, django_capture_on_commit_callbacks
):
    # given a detractor answer and its follow-up task
    answered_at = timezone.now() - timedelta(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = answers.answer_record(delivery=nps, score=2, now=answered_at)

    # when the CSM logs a call with the contact who answered
    with django_capture_on_commit_callbacks(execute=True):
        call = portfolio_services.activity_log(
            customer=customer, kind="call", title="Liguei para a Ana", author=org.csm_a, contact=contact
        )

    # then the loop is closed at the call and the task is done
    response.refresh_from_db()
    assert response.loop_closed_at == call.happened_at
    task = Task.objects.get(pk=response.follow_up_task_id)
    assert task.status == TaskStatus.DONE
    stats = loop_close_stats(Response.objects.all())
    assert stats["count_closed"] == 1
    assert stats["count_open"] == 0
    assert 4.9 <= stats["avg_hours"] <= 5.1


@pytest.mark.parametrize("with_whom", ["another contact", "nobody in particular"])
def test_a_call_with_someone_else_at_the_customer_does_not_close_the_loop(
    nps, org, customer, with_whom, django_capture_on_commit_callbacks
):
    # given a detractor answer from Ana
    with django_capture_on_commit_callbacks(execute=True):
        response = answers.answer_record(delivery=nps, score=2, now=timezone.now() - timedelta(hours=5))
    other = ContactFactory(customer=customer, name="Bruno Lima") if with_whom == "another contact" else None

    # when the CSM logs a call with Bruno, or with no one named
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_services.activity_log(
            customer=customer, kind="call", title="Liguei para o Bruno", author=org.csm_a, contact=other
        )

    # then Ana's loop stays open, and so does its task
    response.refresh_from_db()
    assert response.loop_closed_at is None
    assert Task.objects.get(pk=response.follow_up_task_id).status == TaskStatus.OPEN


def test_the_touch_logged_event_carries_the_contact(org, customer, contact, django_capture_on_commit_callbacks):
    with recorded() as announced, django_capture_on_commit_callbacks(execute=True):
        call = portfolio_services.activity_log(
            customer=customer, kind="meeting", title="Reunião com a Ana", author=org.csm_a, contact=contact
        )
    touches = [e for e in announced if isinstance(e, portfolio_events.TouchLogged)]
    assert touches == [
        portfolio_events.TouchLogged(
            customer_id=customer.pk, activity_id=call.pk, author_id=org.csm_a.pk, contact_id=contact.pk
        )
    ]


def test_a_touch_from_before_the_answer_does_not_close_it(nps, org, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = answers.answer_record(delivery=nps, score=2)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_services.activity_log(
            customer=customer,
            kind="meeting",
            title="Reunião da semana passada",
            author=org.csm_a,
            happened_at=timezone.now() - timedelta(days=7),
        )

    response.refresh_from_db()
    assert response.loop_closed_at is None
    assert Task.objects.get(pk=response.follow_up_task_id).status == TaskStatus.OPEN
    assert loop_close_stats(Response.objects.all()) == {"count_closed": 0, "avg_hours": None, "count_open": 1}


def test_a_note_is_not_a_touch(nps, org, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = answers.answer_record(delivery=nps, score=2)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_services.activity_log(customer=customer, kind="note", title="Anotação", author=org.csm_a)

    response.refresh_from_db()
    assert response.loop_closed_at is None


def test_a_touch_on_another_customer_closes_nothing(nps, org, django_capture_on_commit_callbacks):
    other = CustomerFactory(owner=org.csm_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = answers.answer_record(delivery=nps, score=2)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_services.activity_log(customer=other, kind="call", title="Outro cliente", author=org.csm_a)

    response.refresh_from_db()
    assert response.loop_closed_at is None


@pytest.mark.parametrize(
    ("day", "due"),
    [
        (date(2026, 11, 27), date(2026, 12, 1)),  # Friday → Tuesday
        (date(2026, 11, 28), date(2026, 12, 1)),  # Saturday → Tuesday
        (date(2026, 11, 29), date(2026, 12, 1)),  # Sunday → Tuesday
        (date(2026, 11, 23), date(2026, 11, 25)),  # Monday → Wednesday
        (date(2026, 11, 26), date(2026, 11, 30)),  # Thursday → Monday
    ],
)
def test_two_business_days_skip_the_weekend(day, due):
    assert answers.add_business_days(day, 2) == due


# --- Opting out ------------------------------------------------------------------------------------------------


def test_unsubscribe_opts_the_contact_out_once(nps, contact, customer):
    answers.unsubscribe(delivery=nps)
    first = Delivery.objects.get(pk=nps.pk).contact.opted_out_at

    answers.unsubscribe(delivery=nps)

    contact.refresh_from_db()
    assert contact.opted_out_at is not None
    assert contact.opted_out_at == first
    assert Activity.objects.filter(customer=customer, kind="system", data__contact=contact.pk).count() == 1


def test_enps_has_no_contact_to_opt_out(org):
    delivery, _ = make_delivery(make_campaign("enps"), employee=org.csm_a)

    with pytest.raises(answers.OptOutNotApplicable):
        answers.unsubscribe(delivery=delivery)


# --- Concurrency -----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_simultaneous_answers_to_one_delivery_make_one_response(org):
    customer = CustomerFactory(owner=org.csm_a)
    delivery, _ = make_delivery(make_campaign(), contact=ContactFactory(customer=customer))
    barrier = threading.Barrier(6)
    failures = []

    def tap(score):
        try:
            barrier.wait()
            answers.answer_record(delivery=delivery, score=score)
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap, args=(score,)) for score in (1, 2, 3, 8, 9, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert Response.objects.filter(delivery=delivery).count() == 1
    assert survey_entries(customer).count() == 6
    assert Task.objects.filter(origin="playbook").count() <= 1
