"""Survey campaigns and the eNPS employee list stay within a team: a leader's campaign reaches only their
team's customers (or people), another team's campaign is a 404 on every page, action and API route, a
company-wide campaign is an admin's, and the send itself refuses a row outside the campaign's team."""

import importlib
from collections import Counter

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.utils import translation

from surveys import dispatch, employees, planning, services, tokens, triggers
from surveys.audience import audience_contacts, audience_employees, audience_recipients
from surveys.models import Campaign, CampaignMode, Delivery, DeliveryStatus, EmployeeRecipient, SkipReason, Trigger
from tests.factories import UserFactory
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import activate
from tests.surveys.test_results import make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.LEME_SURVEY_SEND_RATE = 0


@pytest.fixture
def contacts(org):
    """One contact of a team A customer and one of a team B customer."""
    return {
        "a": ContactFactory(customer=CustomerFactory(owner=org.csm_a, name="Padaria A"), email="ana@cliente-a.com"),
        "b": ContactFactory(customer=CustomerFactory(owner=org.csm_b, name="Loja B"), email="bia@cliente-b.com"),
    }


@pytest.fixture
def campaign_b(org):
    return make_campaign(actor=org.leader_b, name="NPS do time B")


# --- Whom a campaign reaches -------------------------------------------------------------------------------


def test_a_leaders_campaign_belongs_to_their_team_and_reaches_only_its_customers(org, contacts):
    campaign = make_campaign(actor=org.leader_a, name="NPS do time A")

    assert campaign.team == org.team_a
    assert list(audience_contacts(campaign)) == [contacts["a"]]


def test_an_admins_company_wide_campaign_reaches_every_team(org, contacts):
    campaign = make_campaign(actor=org.admin, name="NPS da empresa")

    assert campaign.team is None
    assert set(audience_contacts(campaign)) == {contacts["a"], contacts["b"]}


def test_an_admin_may_give_a_campaign_to_a_team(org, contacts):
    campaign = make_campaign(actor=org.admin, name="NPS do time B", team=org.team_b)

    assert list(audience_contacts(campaign)) == [contacts["b"]]


def test_a_leader_creates_campaigns_for_their_team_only(org):
    with pytest.raises(PermissionDenied):
        make_campaign(actor=org.leader_a, team=org.team_b)
    with pytest.raises(PermissionDenied):
        make_campaign(actor=org.leader_a, team=None)


def test_the_form_offers_a_leader_only_their_teams(org, client_for):
    client = client_for(org.leader_a)

    form = client.get("/surveys/new/").context["form"]
    refused = client.post("/surveys/new/", {"name": "NPS", "kind": "nps", "team": org.team_b.pk, "mode": "now"})

    assert list(form.fields["team"].queryset) == [org.team_a]
    assert refused.status_code == 422
    assert not Campaign.objects.exists()


def test_a_team_enps_asks_only_that_teams_people(org):
    employees.employee_import(
        text="email,team\nana@acme.com.br,Time Enterprise\nbia@acme.com.br,Time SMB\n", actor=org.admin, commit=True
    )
    campaign = make_campaign("enps", actor=org.leader_a, audience={"employees": "both"})

    people = set(audience_employees(campaign))
    assert org.csm_a in people
    assert org.leader_a in people
    assert org.csm_b not in people
    assert org.leader_b not in people
    assert [r.email for r in audience_recipients(campaign)] == ["ana@acme.com.br"]


def test_planning_a_team_campaign_writes_no_row_for_another_team(org, contacts):
    campaign = activate(make_campaign(actor=org.leader_a, mode=CampaignMode.AT, send_at="2020-01-01T00:00Z"))

    planning.campaign_plan(campaign_id=campaign.pk)

    assert list(Delivery.objects.filter(campaign=campaign).values_list("contact", flat=True)) == [contacts["a"].pk]


def test_a_transactional_campaign_does_not_follow_another_teams_events(org, contacts):
    campaign = activate(
        make_campaign(actor=org.leader_a, mode=CampaignMode.TRANSACTIONAL, trigger=Trigger.HANDOFF, fatigue_days=90)
    )

    result = triggers.send_transactional(trigger=Trigger.HANDOFF, customer_id=contacts["b"].customer_id)

    assert result.pending == 0
    assert not Delivery.objects.filter(campaign=campaign).exists()


def test_the_send_never_emails_a_row_outside_the_campaigns_team(org, contacts, smtp_server):
    # given a team A campaign with a row written by hand for team B's contact
    inbox, _url = smtp_server
    campaign = activate(make_campaign(actor=org.leader_a, mode=CampaignMode.AT, send_at="2020-01-01T00:00Z"))
    planning.campaign_plan(campaign_id=campaign.pk)
    salt, token_hash = tokens.salt_and_hash()
    tampered = Delivery.objects.create(
        campaign=campaign,
        contact=contacts["b"],
        customer=contacts["a"].customer,  # even a row that claims team A's customer
        email=contacts["b"].email,
        token_salt=salt,
        token_hash=token_hash,
    )

    # when
    result = dispatch.deliveries_send_pending(campaign_id=campaign.pk)

    # then
    tampered.refresh_from_db()
    assert Counter(a for e in inbox.envelopes for a in e.rcpt_tos) == Counter({contacts["a"].email: 1})
    assert (tampered.status, tampered.skip_reason) == (DeliveryStatus.SKIPPED, SkipReason.OUTSIDE_TEAM)
    assert result.sent == 1
    assert not result.more_due


# --- Another team's campaign does not exist ------------------------------------------------------------------


def test_another_teams_campaign_is_a_404_on_every_page_and_action(org, client_for, campaign_b):
    client = client_for(org.leader_a)
    pk = campaign_b.pk

    answers = {
        "page": client.get(f"/surveys/{pk}/").status_code,
        "csv": client.get(f"/surveys/{pk}/export.csv").status_code,
        "activate": client.post(f"/surveys/{pk}/activate/").status_code,
        "close": client.post(f"/surveys/{pk}/close/").status_code,
    }

    assert answers == {"page": 404, "csv": 404, "activate": 404, "close": 404}
    campaign_b.refresh_from_db()
    assert campaign_b.status == "draft"
    assert "NPS do time B" not in client.get("/surveys/").text
    assert client_for(org.csm_a).get(f"/surveys/{pk}/").status_code == 404


def test_another_teams_chi_campaign_is_a_404(org, client_for, contacts):
    chi = make_campaign("chi", actor=org.leader_b)

    assert client_for(org.leader_a).get(f"/surveys/{chi.pk}/chi/").status_code == 404
    assert client_for(org.csm_a).get(f"/surveys/{chi.pk}/chi/{contacts['a'].customer_id}/").status_code == 404


def test_another_teams_campaign_is_a_404_in_the_api(org, api_for, contacts):
    campaign = activate(make_campaign(actor=org.leader_b, mode=CampaignMode.TRANSACTIONAL, trigger=Trigger.API))
    api = api_for(org.leader_a)
    base = f"/api/v1/survey-campaigns/{campaign.pk}"

    listed = api.get("/api/v1/survey-campaigns/").json()["results"]

    assert campaign.pk not in [row["id"] for row in listed]
    assert api.get(f"{base}/").status_code == 404
    assert api.get(f"{base}/results/").status_code == 404
    assert api.post(f"{base}/send/", {"contact": contacts["a"].pk}, format="json").status_code == 404
    assert not Delivery.objects.exists()


def test_the_api_send_refuses_a_contact_outside_the_campaigns_team(org, api_for, contacts):
    campaign = activate(
        make_campaign(actor=org.admin, team=org.team_a, mode=CampaignMode.TRANSACTIONAL, trigger=Trigger.API)
    )

    response = api_for(org.admin).post(
        f"/api/v1/survey-campaigns/{campaign.pk}/send/", {"contact": contacts["b"].pk}, format="json"
    )

    assert response.status_code == 400
    assert not Delivery.objects.exists()


def test_a_leader_reads_but_does_not_manage_a_company_wide_campaign(org, client_for, api_for):
    campaign = make_campaign(actor=org.admin, name="NPS da empresa")
    client = client_for(org.leader_a)

    page = client.get(f"/surveys/{campaign.pk}/")
    start = client.post(f"/surveys/{campaign.pk}/activate/")

    assert page.status_code == 200
    assert page.context["can_manage"] is False
    assert start.status_code == 403
    assert api_for(org.leader_a).get(f"/api/v1/survey-campaigns/{campaign.pk}/").json()["team"] is None
    with pytest.raises(PermissionDenied):
        services.campaign_close(campaign=campaign, actor=org.leader_a)
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_the_campaign_list_says_whose_each_campaign_is(org, client_for):
    make_campaign(actor=org.leader_a, name="NPS do time A")
    make_campaign(actor=org.admin, name="NPS da empresa")
    page = client_for(org.admin).get("/surveys/")  # the admin reads Leme in Portuguese

    rows = page.text.split("<tr>")[1:]
    assert any("NPS do time A" in row and "Time Enterprise ·" in row for row in rows)
    assert any("NPS da empresa" in row and "Toda a empresa ·" in row for row in rows)


def test_a_leader_manages_their_own_teams_campaign(org, client_for):
    campaign = make_campaign(actor=org.leader_a, mode=CampaignMode.RECURRING, every_days=90)

    client_for(org.leader_a).post(f"/surveys/{campaign.pk}/activate/")

    campaign.refresh_from_db()
    assert campaign.status == "active"


# --- Existing campaigns -----------------------------------------------------------------------------------------


def test_existing_campaigns_go_to_their_creators_team(org):
    backfill = importlib.import_module("surveys.migrations.0010_campaign_team_backfill").backfill
    leader_without_team = UserFactory(role="leader", team=None)
    org.team_b.leader = leader_without_team
    org.team_b.save()
    made = {
        "leader_a": Campaign.objects.create(name="A", kind="nps", created_by=org.leader_a),
        "leader_of_b": Campaign.objects.create(name="B", kind="nps", created_by=leader_without_team),
        "admin": Campaign.objects.create(name="C", kind="nps", created_by=org.admin),
        "nobody": Campaign.objects.create(name="D", kind="nps", created_by=None),
    }

    backfill(apps, None)

    teams = {key: Campaign.objects.get(pk=c.pk).team for key, c in made.items()}
    assert teams == {"leader_a": org.team_a, "leader_of_b": org.team_b, "admin": None, "nobody": None}


# --- The eNPS employee list ----------------------------------------------------------------------------------


def _import(actor, text, commit=True):
    return employees.employee_import(text=text, actor=actor, commit=commit)


def test_a_leader_imports_people_into_their_own_team_only(org):
    with translation.override("en"):
        report = _import(org.leader_a, "email,name,team\nbia@acme.com.br,Bia,Time SMB\n", commit=False)

    assert not report.ok
    assert report.rows[0].errors == ["team: you manage only your own team's people."]
    with pytest.raises(employees.ImportFailed):
        _import(org.leader_a, "email,name,team\nbia@acme.com.br,Bia,Time SMB\n")
    assert not EmployeeRecipient.objects.exists()


def test_a_leaders_people_go_to_their_team_when_the_file_names_none(org):
    _import(org.leader_a, "email,name\nana@acme.com.br,Ana\n")
    _import(org.leader_a, "email,name,team\ncaio@acme.com.br,Caio,\n")

    assert set(EmployeeRecipient.objects.values_list("team", flat=True)) == {org.team_a.pk}


def test_a_leader_cannot_deactivate_or_move_another_teams_person(org):
    _import(org.admin, "email,team\nbia@acme.com.br,Time SMB\nzeca@acme.com.br,\n")

    for text in ("email,active\nbia@acme.com.br,no\n", "email,team\nbia@acme.com.br,Time Enterprise\n"):
        report = _import(org.leader_a, text, commit=False)
        assert not report.ok, text
    report = _import(org.leader_a, "email,active\nzeca@acme.com.br,no\n", commit=False)
    assert not report.ok  # someone in no team is the admins'

    assert EmployeeRecipient.objects.get(email="bia@acme.com.br").active
    assert EmployeeRecipient.objects.get(email="bia@acme.com.br").team == org.team_b


def test_the_employee_list_shows_a_leader_their_teams_people_and_an_admin_everyone(org, client_for):
    _import(org.admin, "email,team\nana@acme.com.br,Time Enterprise\nbia@acme.com.br,Time SMB\nzeca@acme.com.br,\n")

    leader_page = client_for(org.leader_a).get("/surveys/employees/")
    admin_page = client_for(org.admin).get("/surveys/employees/")

    assert [p.email for p in leader_page.context["people"]] == ["ana@acme.com.br"]
    assert leader_page.context["counts"] == {"active": 1, "inactive": 0}
    assert "bia@acme.com.br" not in leader_page.text
    assert [p.email for p in admin_page.context["people"]] == ["ana@acme.com.br", "bia@acme.com.br", "zeca@acme.com.br"]


def test_an_admin_still_manages_anyone_on_the_list(org):
    _import(org.admin, "email,team\nbia@acme.com.br,Time SMB\n")

    _import(org.admin, "email,active\nbia@acme.com.br,no\n")

    assert not EmployeeRecipient.objects.get(email="bia@acme.com.br").active
