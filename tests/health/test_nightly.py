"""The nightly run: hand-computed scores through the database, the customer's current health, band changes
on the timeline and announced after commit, overrides across runs, reruns and restarts."""

from datetime import datetime, time, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from core import clock
from core.events import recorded
from health import services
from health.events import HealthBandChanged
from health.models import HealthOverride, HealthScore
from portfolio.models import Activity, ContactRole, Customer, Subscription
from portfolio.services import subscription_mark_delinquent
from tests.health.factories import rule, usage, version
from tests.portfolio.factories import ContactFactory, CustomerFactory, hand_off, subscribe

TODAY = clock.today()
YESTERDAY = TODAY - timedelta(days=1)
SIMPLE = {"adoption": rule(60, 10, 70), "engagement": rule(40, 4, 22)}


@pytest.fixture
def ongoing(org):
    """An ongoing high-touch customer with 20 licences, scored on usage and engagement only."""
    version("high", "ongoing", SIMPLE)
    customer = CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado")
    hand_off(customer, org.csm_a)
    Customer.objects.filter(pk=customer.pk).update(licences=20)
    return customer


def night_of(day):
    return timezone.make_aware(datetime.combine(day, time(2, 30)))


def health_entries(customer):
    return list(Activity.objects.filter(customer=customer, kind="health").order_by("happened_at", "pk"))


def test_a_score_by_hand_through_the_run(ongoing):
    usage(ongoing, until=TODAY, users=10)

    result = services.scores_recompute(TODAY)

    # 10 of 20 licences a day = 50 % → (50 − 10) ÷ 60 = 66.67 points × 60; 30 active days → 100 points × 40
    row = HealthScore.objects.get(customer=ongoing, day=TODAY)
    assert (row.score, row.band) == (80, "green")
    assert row.measures["adoption"]["raw"] == 50
    assert row.measures["adoption"]["facts"] == {"users": 10, "licences": 20}
    assert row.measures["engagement"]["contribution"] == 40
    assert result.scored >= 1
    ongoing.refresh_from_db()
    assert (ongoing.health_score, ongoing.health_band) == (80, "green")
    assert (ongoing.health_real_score, ongoing.health_real_band) == (80, "green")


def test_licences_from_the_running_subscriptions_seats(ongoing):
    Customer.objects.filter(pk=ongoing.pk).update(licences=None)
    for seats, product in ((30, "Leme CRM"), (10, "Módulo extra")):
        # No service sets seats yet (usage ingestion brings them); the row is what the selector reads.
        Subscription.objects.filter(pk=subscribe(ongoing, product=product).pk).update(seats=seats)
    usage(ongoing, until=TODAY, users=10)

    services.scores_recompute(TODAY)

    row = HealthScore.objects.get(customer=ongoing, day=TODAY)
    assert row.measures["adoption"]["facts"]["licences"] == 40
    assert row.measures["adoption"]["raw"] == 25


def test_without_licences_usage_is_left_out_and_its_weight_spread(ongoing):
    Customer.objects.filter(pk=ongoing.pk).update(licences=None)
    usage(ongoing, until=TODAY, users=10, days=30, skip=10)  # 20 active days of 30

    services.scores_recompute(TODAY)

    row = HealthScore.objects.get(customer=ongoing, day=TODAY)
    # engagement alone: (20 − 4) ÷ 18 = 88.9 points
    assert row.measures["adoption"]["left_out"] == "no_data"
    assert row.score == 89
    assert row.measures["engagement"]["contribution"] == pytest.approx(88.89)


def test_usage_older_than_the_freshness_limit_is_stale_and_no_score_follows(ongoing):
    usage(ongoing, until=TODAY - timedelta(days=120), users=10)

    services.scores_recompute(TODAY)

    row = HealthScore.objects.get(customer=ongoing, day=TODAY)
    assert row.measures["adoption"]["left_out"] == "stale"
    assert row.measures["engagement"]["left_out"] == "stale"
    assert (row.score, row.band) == (None, "")
    ongoing.refresh_from_db()
    assert ongoing.health_band == ""


def test_the_default_profiles_read_every_measure(org):
    customer = CustomerFactory(owner=org.csm_a)
    hand_off(customer, org.csm_a)
    Customer.objects.filter(pk=customer.pk).update(licences=10)
    ContactFactory(customer=customer, role=ContactRole.DECISION_MAKER)
    subscription = subscribe(customer)
    subscription_mark_delinquent(subscription=subscription, since=TODAY, actor=None)
    usage(customer, until=TODAY, users=5, events=40, days=60)

    services.scores_recompute(TODAY)

    measures = HealthScore.objects.get(customer=customer, day=TODAY).measures
    assert measures["adoption"]["raw"] == 50
    assert measures["depth"]["raw"] == 8  # 40 events ÷ 5 active users a day
    assert measures["trend"]["raw"] == 0
    assert measures["engagement"]["raw"] == 30
    assert measures["stakeholders"]["raw"] == 1
    assert measures["stakeholders"]["facts"] == {"decision_maker": True, "champion": False}
    assert measures["payment"]["raw"] == 1
    assert measures["payment"]["points"] == 0
    assert measures["churn_risk"]["raw"] == 0
    assert measures["survey"]["left_out"] == "no_data"
    assert measures["relationship"]["raw"] is not None


def test_band_change_goes_on_the_timeline_and_is_announced_after_commit(ongoing, committed):
    usage(ongoing, until=YESTERDAY, users=10)
    services.scores_recompute(YESTERDAY)  # 80, green
    Customer.objects.filter(pk=ongoing.pk).update(licences=200)  # 10 a day of 200: usage collapses

    with recorded() as events, committed():
        result = services.scores_recompute(TODAY)

    row = HealthScore.objects.get(customer=ongoing, day=TODAY)
    assert (row.score, row.band) == (40, "red")
    assert result.band_changes == 1
    changed = [e for e in events if isinstance(e, HealthBandChanged)]
    assert changed == [HealthBandChanged(customer_id=ongoing.pk, day=TODAY, from_band="green", to_band="red", score=40)]
    entries = health_entries(ongoing)
    assert len(entries) == 2  # the first score, then the change
    assert entries[-1].data == {"day": TODAY.isoformat(), "from": "green", "to": "red"}
    with translation.override("en"):
        assert entries[-1].kind_label == "Health"
    assert "→" in entries[-1].title
    assert entries[-1].body.startswith(("Usage −40", "Uso −40"))


def test_a_past_day_scored_without_announcing_is_on_the_timeline_and_the_next_night_announces(ongoing, committed):
    # given a customer green a week ago and red two days ago (the history of a base health is switched on for)
    week_ago, two_days_ago = TODAY - timedelta(days=7), TODAY - timedelta(days=2)
    usage(ongoing, until=TODAY, users=10, days=40)
    with clock.at(night_of(week_ago)):
        services.scores_recompute(week_ago, announce=False)  # green
    Customer.objects.filter(pk=ongoing.pk).update(licences=200)  # 10 a day of 200: red

    # when a past day is scored on its own clock without announcing
    with recorded() as events, committed(), clock.at(night_of(two_days_ago)):
        result = services.scores_recompute(two_days_ago, announce=False)

    # then the change is on the timeline, on its day, and nothing was announced
    assert events == []
    assert result.band_changes == 1
    change = health_entries(ongoing)[-1]
    assert change.data == {"day": two_days_ago.isoformat(), "from": "green", "to": "red"}
    assert timezone.localdate(change.happened_at) == two_days_ago
    ongoing.refresh_from_db()
    assert ongoing.health_band == "red"

    # when the customer recovers and tonight's run scores today
    Customer.objects.filter(pk=ongoing.pk).update(licences=20)
    with recorded() as events, committed():
        result = services.scores_recompute(TODAY)

    # then the nightly run announces its change, as every night
    assert result.band_changes == 1
    assert [e for e in events if isinstance(e, HealthBandChanged)] == [
        HealthBandChanged(customer_id=ongoing.pk, day=TODAY, from_band="red", to_band="green", score=80)
    ]
    assert [e.data["to"] for e in health_entries(ongoing)] == ["green", "red", "green"]


def test_nothing_is_announced_before_commit(ongoing):
    usage(ongoing, until=TODAY, users=10)
    with recorded() as events:
        services.scores_recompute(TODAY)
    assert events == []  # the test's transaction never commits


def test_running_twice_gives_the_same_rows_and_announces_once(ongoing, org, committed):
    other = CustomerFactory(owner=org.csm_a)
    usage(ongoing, until=TODAY, users=10)
    usage(other, until=TODAY, users=1)

    services.scores_recompute(YESTERDAY)  # green
    Customer.objects.filter(pk=ongoing.pk).update(licences=200)  # red today

    with recorded() as events, committed():
        services.scores_recompute(TODAY)
        first = list(HealthScore.objects.filter(day=TODAY).order_by("customer_id").values_list("customer_id", "score"))
        services.scores_recompute(TODAY)

    assert (
        list(HealthScore.objects.filter(day=TODAY).order_by("customer_id").values_list("customer_id", "score")) == first
    )
    assert HealthScore.objects.filter(day=TODAY, customer=ongoing).count() == 1
    assert len(health_entries(ongoing)) == 2  # the first score, then one change
    assert len([e for e in events if isinstance(e, HealthBandChanged) and e.customer_id == ongoing.pk]) == 1


def test_a_first_score_goes_on_the_timeline_and_is_not_announced(ongoing, org, committed):
    # given two customers scored for the first time, one of them red (the night health is switched on)
    red = CustomerFactory(owner=org.csm_a)
    hand_off(red, org.csm_a)
    Customer.objects.filter(pk=red.pk).update(licences=200)
    usage(ongoing, until=TODAY, users=10)
    usage(red, until=TODAY, users=10)

    with recorded() as events, committed():
        result = services.scores_recompute(TODAY)

    assert dict(HealthScore.objects.filter(day=TODAY).values_list("customer_id", "band")) == {
        ongoing.pk: "green",
        red.pk: "red",
    }
    assert [e for e in events if isinstance(e, HealthBandChanged)] == []
    assert result.band_changes == 0
    assert [e.data["to"] for e in health_entries(red)] == ["red"]
    assert health_entries(red)[0].title.startswith(("Health: first score", "Saúde: primeiro score"))


def test_a_run_killed_between_batches_is_finished_by_the_next(ongoing, org, monkeypatch):
    customers = [ongoing, *(CustomerFactory(owner=org.csm_a) for _ in range(3))]
    for customer in customers:
        usage(customer, until=TODAY, users=10)
    write = services._write_batch
    calls = []

    def dies_on_the_second_batch(rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise SystemExit("worker killed")
        write(rows)

    monkeypatch.setattr(services, "BATCH_SIZE", 1)
    monkeypatch.setattr(services, "_write_batch", dies_on_the_second_batch)
    with pytest.raises(SystemExit):
        services.scores_recompute(TODAY)
    assert HealthScore.objects.filter(day=TODAY).count() == 1
    assert not Activity.objects.filter(kind="health").exists()

    monkeypatch.setattr(services, "_write_batch", write)
    services.scores_recompute(TODAY)

    assert HealthScore.objects.filter(day=TODAY).count() == len(customers)
    assert Activity.objects.filter(kind="health").count() == len(customers)  # each first score once
    assert set(Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list("health_band", flat=True)) == {
        "green"
    }


def test_an_override_stays_beside_the_computed_score_and_ends_by_itself(ongoing, org, committed):
    usage(ongoing, until=TODAY + timedelta(days=1), users=10, days=31)
    services.scores_recompute(YESTERDAY)

    # given an override until today
    with committed():
        override = services.override_start(
            customer=ongoing,
            actor=org.csm_a,
            band="red",
            reason="Diretor pediu proposta da concorrência",
            ends_on=TODAY,
        )
    # when tonight's run scores today
    services.scores_recompute(TODAY)
    # then the computed score goes on beside the override
    row = HealthScore.objects.get(customer=ongoing, day=TODAY)
    assert (row.score, row.band, row.override_id) == (80, "green", override.pk)
    ongoing.refresh_from_db()
    assert (ongoing.health_band, ongoing.health_real_band, ongoing.health_score) == ("red", "green", 80)

    # when tomorrow's run passes its end date
    with recorded() as events, committed():
        result = services.scores_recompute(TODAY + timedelta(days=1))
    override.refresh_from_db()
    assert override.ended_at is not None
    assert override.ended_by is None
    assert result.overrides_ended == 1
    ongoing.refresh_from_db()
    assert (ongoing.health_band, ongoing.health_real_band) == ("green", "green")
    assert HealthScore.objects.get(customer=ongoing, day=TODAY + timedelta(days=1)).override_id is None
    kinds = [a.external_id.split(":")[0] for a in health_entries(ongoing)]
    # first score (green); the override (red) — not again at today's run; its end; tomorrow's green
    assert kinds == ["health-band", "health-override", "health-override-end", "health-band"]
    assert [(e.from_band, e.to_band) for e in events if isinstance(e, HealthBandChanged)] == [("red", "green")]


def test_an_override_needs_a_reason_and_a_future_end(ongoing, org):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.override_start(customer=ongoing, actor=org.csm_a, band="purple", reason=" ", ends_on=YESTERDAY)
    assert set(refused.value.message_dict) == {"band", "reason", "ends_on"}
    assert not HealthOverride.objects.exists()


def test_a_viewer_cannot_override(ongoing, org):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.override_start(customer=ongoing, actor=org.viewer_a, band="red", reason="x")


def test_the_command_runs_a_day(ongoing, capsys):
    usage(ongoing, until=YESTERDAY, users=10)
    call_command("health_recompute", "--day", YESTERDAY.isoformat())
    assert f"{YESTERDAY}:" in capsys.readouterr().out
    assert HealthScore.objects.filter(customer=ongoing, day=YESTERDAY).exists()
    with pytest.raises(CommandError):
        call_command("health_recompute", "--day", "31/12/2026")


def test_the_task_runs_on_the_nightly_queue_with_its_limits(settings):
    from config.celery import app
    from health.tasks import scores_recompute

    assert (
        app.amqp.router.route({}, scores_recompute.name)["queue"].name
        == f"{settings.CELERY_TASK_DEFAULT_QUEUE}.nightly"
    )
    assert scores_recompute.soft_time_limit == settings.LEME_NIGHTLY_SOFT_TIME_LIMIT
    assert settings.CELERY_BEAT_SCHEDULE["health.scores_recompute"]["options"]["expires"] > 0


def test_churned_customers_lose_their_health(ongoing):
    usage(ongoing, until=TODAY, users=10)
    services.scores_recompute(TODAY)
    Customer.objects.filter(pk=ongoing.pk).update(stage="churned")
    services.scores_recompute(TODAY + timedelta(days=1))
    ongoing.refresh_from_db()
    assert (ongoing.health_score, ongoing.health_band) == (None, "")


def test_the_python_update_of_the_embedded_run_equals_the_sql(ongoing, org):
    other = CustomerFactory(owner=org.csm_a)
    Customer.objects.filter(pk=other.pk).update(licences=5)
    usage(ongoing, until=TODAY, users=10, days=40)
    usage(other, until=TODAY, users=2, days=40)
    services.scores_recompute(TODAY - timedelta(days=7))
    Customer.objects.filter(pk=ongoing.pk).update(licences=40)
    services.override_start(customer=other, actor=org.csm_a, band="green", score=77, reason="Conta de teste")
    services.scores_recompute(TODAY)
    fields = ["pk", *services.HEALTH_FIELDS]
    by_sql = list(Customer.objects.order_by("pk").values_list(*fields))

    Customer.objects.update(health_score=None, health_band="", health_real_score=None, health_real_band="")
    services._update_customers_python(TODAY, (ongoing.pk, other.pk))

    assert list(Customer.objects.order_by("pk").values_list(*fields)) == by_sql
    assert ("green", 77) in [(band, score) for _, _, _, band, score, _ in by_sql]
    assert any(change for *_, change in by_sql)
