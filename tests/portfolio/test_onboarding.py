"""Onboarding's end: milestones reached on the day they were, and a handoff that warns before it lets a
customer through with nothing reached."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portfolio import services
from portfolio.models import Customer, Handoff, Stage
from tests.portfolio.factories import CustomerFactory, hand_off

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


HANDOFF = {
    "channel": "meeting",
    "results": "Funil configurado",
    "goals": "Dobrar a conversão",
    "risks": "",
    "stakeholders": "Ana (decisora)",
}


def late_customer(org, days=40):
    """An onboarding customer started ``days`` ago with neither milestone reached: first value is overdue."""
    return CustomerFactory(owner=org.csm_a, implementation_manager=org.ism_a, start_date=today() - timedelta(days=days))


# --- Milestones ------------------------------------------------------------------------------------------


def test_a_milestone_is_reached_on_the_day_the_ism_gives(org):
    customer = late_customer(org)
    milestone = customer.milestones.get(kind="first_value")
    services.milestone_achieve(milestone=milestone, achieved_on=today() - timedelta(days=12), actor=org.ism_a)
    milestone.refresh_from_db()
    assert milestone.achieved_on == today() - timedelta(days=12)


@pytest.mark.parametrize(
    ("offset", "message"),
    [(1, "no futuro"), (-41, "antes de o cliente começar")],
)
def test_a_milestone_is_never_reached_in_the_future_or_before_the_start(org, offset, message):
    customer = late_customer(org)
    milestone = customer.milestones.get(kind="first_value")
    with pytest.raises(ValidationError, match=message):
        services.milestone_achieve(milestone=milestone, achieved_on=today() + timedelta(days=offset), actor=org.ism_a)
    milestone.refresh_from_db()
    assert milestone.achieved_on is None


def test_the_customer_page_marks_a_milestone_reached_on_a_past_day(org, client_for):
    customer = late_customer(org)
    milestone = customer.milestones.get(kind="first_value")
    client = client_for(org.ism_a)
    page = client.get(f"/customers/{customer.pk}/")
    assert f'name="achieved_on" id="reached-{milestone.pk}"' in page.text
    response = client.post(
        f"/customers/{customer.pk}/milestones/{milestone.pk}/achieve/",
        {"achieved_on": (today() - timedelta(days=5)).isoformat()},
    )
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.achieved_on == today() - timedelta(days=5)


def test_the_customer_page_refuses_a_future_day_and_says_why(org, client_for):
    customer = late_customer(org)
    milestone = customer.milestones.get(kind="first_value")
    response = client_for(org.ism_a).post(
        f"/customers/{customer.pk}/milestones/{milestone.pk}/achieve/",
        {"achieved_on": (today() + timedelta(days=3)).isoformat()},
        follow=True,
    )
    assert "no futuro" in response.text
    milestone.refresh_from_db()
    assert milestone.achieved_on is None


# --- Handoff ---------------------------------------------------------------------------------------------


def test_a_handoff_with_nothing_reached_and_first_value_overdue_needs_confirmation(org):
    customer = late_customer(org)
    with pytest.raises(ValidationError) as refused:
        services.handoff_complete(customer=customer, to_user=org.csm_a, held_on=today(), actor=org.ism_a, **HANDOFF)
    assert "confirm_unreached" in refused.value.message_dict
    assert not Handoff.objects.filter(customer=customer).exists()

    services.handoff_complete(
        customer=customer, to_user=org.csm_a, held_on=today(), actor=org.ism_a, confirm_unreached=True, **HANDOFF
    )
    customer.refresh_from_db()
    assert customer.stage == Stage.ONGOING


@pytest.mark.parametrize("first_value_reached", [True, False])
def test_a_handoff_goes_through_without_confirmation_when_a_milestone_is_reached_or_none_is_late(
    org, first_value_reached
):
    customer = late_customer(org) if first_value_reached else late_customer(org, days=2)
    if first_value_reached:
        services.milestone_achieve(
            milestone=customer.milestones.get(kind="first_value"), achieved_on=today(), actor=org.ism_a
        )
    services.handoff_complete(customer=customer, to_user=org.csm_a, held_on=today(), actor=org.ism_a, **HANDOFF)
    customer.refresh_from_db()
    assert customer.stage == Stage.ONGOING


def test_the_handoff_page_warns_then_goes_through_once_confirmed(org, client_for):
    customer = late_customer(org)
    client = client_for(org.ism_a)
    assert "primeiro valor está atrasado" in client.get(f"/customers/{customer.pk}/handoff/").text

    data = {**HANDOFF, "to_user": org.csm_a.pk, "held_on": today().isoformat()}
    refused = client.post(f"/customers/{customer.pk}/handoff/", data)
    assert refused.status_code == 422
    assert "Confirme" in refused.text
    assert Customer.objects.get(pk=customer.pk).stage == Stage.ONBOARDING

    confirmed = client.post(f"/customers/{customer.pk}/handoff/", {**data, "confirm_unreached": "on"})
    assert confirmed.status_code == 302
    assert Customer.objects.get(pk=customer.pk).stage == Stage.ONGOING


def test_the_handoff_pages_milestones_are_drawn_and_named_without_an_emoji_font(org, client_for):
    customer = late_customer(org)

    page = client_for(org.ism_a).get(f"/customers/{customer.pk}/handoff/").text

    assert "✅" not in page
    assert "⏳" not in page
    assert page.count('class="status-icon') == 2
    assert 'aria-label="atrasado"' in page


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_handoff_page_refuses_a_customer_past_onboarding(org, client_for, method):
    customer = late_customer(org)
    hand_off(customer, org.csm_a, actor=org.ism_a)
    client = client_for(org.ism_a)
    data = {**HANDOFF, "to_user": org.csm_a2.pk, "held_on": today().isoformat()} if method == "post" else None
    response = getattr(client, method)(f"/customers/{customer.pk}/handoff/", data, follow=True)
    assert response.redirect_chain[-1][0] == f"/customers/{customer.pk}/"
    assert "não está mais em implantação" in response.text
    assert Handoff.objects.get(customer=customer).to_user == org.csm_a
