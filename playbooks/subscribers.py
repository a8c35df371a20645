"""What starts and ends playbook runs, each in a Celery task after the event's transaction commits
(``core.events``). Each enrols the customer in the active playbooks the event triggers (their audience,
re-entry and cool-down decide), keyed by the occurrence (``trigger_key``) so a redelivered event enrols
nobody twice, and checks the exit goals of the runs the customer is in."""

from core.events import subscriber
from health import events as health_events
from playbooks import engine
from playbooks.models import TriggerKind
from portfolio import events
from surveys import events as survey_events
from surveys.models import Response, SurveyKind


@subscriber(events.CustomerCreated)
def playbooks_on_customer_created(event: events.CustomerCreated) -> None:
    engine.enrol_on_event(TriggerKind.CUSTOMER_CREATED, customer_id=event.customer_id, trigger_key="created")


@subscriber(events.StageChanged)
def playbooks_on_stage_changed(event: events.StageChanged) -> None:
    engine.goals_check(customer_id=event.customer_id)
    engine.enrol_on_event(
        TriggerKind.STAGE_CHANGED,
        customer_id=event.customer_id,
        stage=event.to_stage,
        trigger_key=f"stage:{event.from_stage}:{event.to_stage}",
    )


@subscriber(events.HandoffCompleted)
def playbooks_on_handoff(event: events.HandoffCompleted) -> None:
    engine.enrol_on_event(
        TriggerKind.HANDOFF_DONE, customer_id=event.customer_id, trigger_key=f"handoff:{event.handoff_id}"
    )


def _answer_facts(event: survey_events.DetractorAnswered) -> dict:
    """What a detractor run's tasks name: the answer, its contact and comment, and the day it was given (the
    follow-up is due two business days after it, however late the job runs)."""
    response = Response.objects.select_related("delivery__contact").filter(pk=event.response_id).first()
    contact = response.delivery.contact if response is not None else None
    return {
        "response_id": event.response_id,
        "trigger_on": event.answered_on.isoformat(),
        "contact_name": contact.name if contact is not None else "",
        "survey": str(SurveyKind(event.kind).label),
        "score": event.score,
        "comment": response.comment if response is not None else "",
    }


@subscriber(survey_events.DetractorAnswered)
def playbooks_on_detractor(event: survey_events.DetractorAnswered) -> None:
    engine.enrol_on_event(
        TriggerKind.DETRACTOR_ANSWERED,
        customer_id=event.customer_id,
        trigger_key=f"detractor:{event.response_id}",
        facts=lambda: _answer_facts(event),
    )


@subscriber(events.ChurnRequestOpened)
def playbooks_on_churn_request(event: events.ChurnRequestOpened) -> None:
    engine.enrol_on_event(
        TriggerKind.CHURN_REQUEST_OPENED,
        customer_id=event.customer_id,
        trigger_key=engine.churn_request_key(event.churn_request_id),
        facts={"churn_request_id": event.churn_request_id},
    )


@subscriber(events.ChurnRequestRecovered)
def playbooks_on_churn_recovered(event: events.ChurnRequestRecovered) -> None:
    # Saving the customer was the work the request's tasks asked for: they are done, not cancelled.
    engine.churn_request_closed(churn_request_id=event.churn_request_id)
    engine.goals_check(customer_id=event.customer_id)


@subscriber(events.UtiEntered)
def playbooks_on_uti_entered(event: events.UtiEntered) -> None:
    # Dated from the stay: a save recorded late starts with its past check-ins overdue. Whoever recorded the
    # save follows a customer without a CSM or ISM.
    engine.enrol_on_event(
        TriggerKind.UTI_ENTERED,
        customer_id=event.customer_id,
        trigger_key=f"uti:{event.uti_stay_id}",
        facts={
            "uti_stay_id": event.uti_stay_id,
            "trigger_on": event.started_on.isoformat(),
            "trigger_ends_on": event.ends_on.isoformat(),
            "fallback_user_id": event.actor_id,
        },
    )


@subscriber(events.UtiLeft)
def playbooks_on_uti_left(event: events.UtiLeft) -> None:
    engine.goals_check(customer_id=event.customer_id)
    engine.enrol_on_event(
        TriggerKind.UTI_LEFT, customer_id=event.customer_id, trigger_key=f"uti-left:{event.uti_stay_id}"
    )


@subscriber(events.DelinquencyStarted)
def playbooks_on_delinquency(event: events.DelinquencyStarted) -> None:
    engine.enrol_on_event(
        TriggerKind.DELINQUENCY_STARTED,
        customer_id=event.customer_id,
        trigger_key=f"delinquency:{event.subscription_id}:{event.since.isoformat()}",
        facts={"subscription_id": event.subscription_id, "delinquent_since": event.since.isoformat()},
    )


@subscriber(events.TouchLogged)
def playbooks_on_touch(event: events.TouchLogged) -> None:
    engine.goals_check(customer_id=event.customer_id)


@subscriber(events.CustomerChurned)
def playbooks_on_churned(event: events.CustomerChurned) -> None:
    if event.churn_request_id is not None:
        # A churn request closed as churned: its tasks were worked (done), whatever else the customer leaves.
        engine.churn_request_closed(churn_request_id=event.churn_request_id)
    engine.customer_churned(customer_id=event.customer_id)


@subscriber(health_events.HealthBandChanged)
def playbooks_on_health_band(event: health_events.HealthBandChanged) -> None:
    # The runs the customer is in learn the new band first (exit goal "back to green", condition "still red").
    engine.goals_check(customer_id=event.customer_id, facts={"band": event.to_band})
    engine.enrol_on_event(
        TriggerKind.HEALTH_BAND_CHANGED,
        customer_id=event.customer_id,
        band=event.to_band,
        facts={"band": event.to_band},
        trigger_key=f"band:{event.day.isoformat()}:{event.to_band}",
    )
