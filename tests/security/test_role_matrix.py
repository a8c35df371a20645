"""The role matrix: every route of the URL patterns and the API router, asked (GET) by each role of team A —
viewer, CSM, ISM, leader, admin — about team A's own objects, answers what ``accounts.access`` says that role
must get. The answers come from a table of rules below, each written from the access function the route
follows, never recorded from the app; a route the table does not name fails the test, so a new route gets
its row. (Another team's objects: tests/test_door.py.)

Then every route is POSTed by each role: the roles a route refuses answer 403 or 404 (an API create that names
a customer they may not change: 400 on that field) and write nothing — no INSERT, UPDATE or DELETE reaches the
database. The bodies are those an allowed role succeeds with where the refusal could hang on them (whom to hand
a customer to, which customers to start a playbook on, what an API create names); elsewhere an empty body, which
a route must refuse before reading it.

The world: team A's customer is owned by its CSM; team A's ISM is not its implementation manager; the survey
campaigns are team A's (made by its leader); the viewer belongs to team A.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, TokenScope
from surveys.models import SurveyKind
from tests.surveys.factories import CampaignFactory
from tests.test_door import PUBLIC, Route, default_health_profile, fill, routes, team_world

ROLES = ("viewer", "csm", "ism", "leader", "admin")

# --- The rules, each mirroring a function of accounts.access (or the selector that applies it) -------------------
# answers in ROLES order.
RULES: dict[str, tuple[tuple[int, ...], str]] = {
    "logged_in": ((200, 200, 200, 200, 200), "any logged-in person; lists and pages scope their rows, not refuse"),
    "post_only": ((405, 405, 405, 405, 405), "a write: GET is refused before anything else"),
    "sees_customer": (
        (200, 200, 404, 200, 200),
        "visible_filter: the owner, the team's leader and viewer, admins; an ISM only for customers they implement",
    ),
    "changes_customer": (
        (403, 302, 404, 302, 302),
        "changeable_filter: a viewer reads only (403); an ISM not implementing it does not see it (404); the "
        "others are sent back to the customer (past onboarding, no handoff to record)",
    ),
    "changes_customer_form": (
        (403, 200, 404, 200, 200),
        "changeable_filter: a form the customer page asks for once its panel is opened; a viewer reads only (403), "
        "an ISM not implementing it does not see it (404)",
    ),
    "creates_customers": ((403, 403, 200, 200, 200), "can_create_customers / can_import: ISMs, leaders, admins"),
    "leads": ((403, 403, 403, 200, 200), "can_lead (can_manage_campaigns): leaders and admins"),
    "admins_only": ((403, 403, 403, 403, 200), "admins only"),
    "sees_campaign": ((200, 200, 200, 200, 200), "campaigns_filter: everyone of the campaign's team, and admins"),
    "assesses_chi": ((403, 200, 200, 200, 200), "a campaign they see, and can_write (a viewer only reads)"),
    "assesses_chi_customer": (
        (403, 200, 404, 200, 200),
        "can_write, and a customer they may change (changeable_filter)",
    ),
    "follows_import": (
        (200, 200, 404, 200, 200),
        "import_job_get (visible_filter over its person): the CSM's own, their leader's and viewer's, admins'",
    ),
    "sees_person": ((404, 200, 404, 200, 200), "users_visible_to: admins everyone, leaders their teams, others self"),
    "needs_a_query": ((404, 404, 404, 404, 404), "asks what to drill into: nothing without it, for anyone"),
    "needs_a_query_api": ((400, 400, 400, 400, 400), "the API says which query parameter is missing, to anyone"),
    "admins_only_post": ((403, 403, 403, 403, 405), "admins who may write (AdminsOnly), then POST only"),
    "reads_settings_post": (
        (403, 403, 403, 405, 405),
        "can_read_settings (admins and leaders), refused before anything else; then POST only",
    ),
    "reads_unit_economics": (
        (200, 403, 403, 200, 200),
        "can_read_unit_economics: workspace-wide money figures for admins, leaders and viewers, not CSMs or ISMs",
    ),
}

# The Settings API's lists and objects, which admins and leaders read.
SETTINGS_API_READS = [
    "settings-history-list",
    "settings-journey-policy-list",
    "settings-journey-policy-detail",
    "settings-churn-category-list",
    "settings-churn-category-detail",
    "settings-churn-reason-list",
    "settings-churn-reason-detail",
    "settings-review-question-list",
    "settings-review-question-detail",
    "settings-milestone-template-list",
    "settings-milestone-template-detail",
    "settings-survey-defaults",
    "settings-chi-criterion-list",
    "settings-chi-criterion-detail",
    "settings-team-list",
    "settings-team-detail",
    "settings-person-list",
    "settings-person-detail",
]
# The Settings API's actions: POST only, and only for those who read the Settings.
SETTINGS_API_ACTIONS = [
    "settings-churn-category-retire",
    "settings-churn-category-restore",
    "settings-churn-reason-retire",
    "settings-churn-reason-restore",
    "settings-review-question-move",
    "settings-review-question-retire",
    "settings-review-question-restore",
    "settings-milestone-template-move",
    "settings-milestone-template-retire",
    "settings-milestone-template-restore",
    "settings-person-deactivate",
    "settings-person-reactivate",
]

# --- Every route's rule ---------------------------------------------------------------------------------------------
ROUTE_RULES = {
    "home": "logged_in",
    "portfolio:list": "logged_in",
    "portfolio:reassign": "post_only",
    "portfolio:export": "logged_in",
    "portfolio:saved_view_save": "post_only",
    "portfolio:saved_view_rename": "post_only",
    "portfolio:saved_view_delete": "post_only",
    "portfolio:customer_create": "creates_customers",
    "portfolio:customer": "sees_customer",
    "portfolio:activity_add": "post_only",
    "portfolio:task_add": "changes_customer_form",
    "portfolio:contact_add": "changes_customer_form",
    "portfolio:contact_edit": "changes_customer_form",
    "portfolio:contact_archive": "post_only",
    "portfolio:customer_task_complete": "post_only",
    "portfolio:opportunity_add": "changes_customer_form",
    "portfolio:opportunity_close": "post_only",
    "portfolio:milestone_achieve": "post_only",
    "portfolio:handoff": "changes_customer",
    "portfolio:move_to_ongoing": "post_only",
    "portfolio:review": "sees_customer",
    "portfolio:churn_open": "changes_customer_form",
    "portfolio:churn_save": "changes_customer_form",
    "portfolio:churn_resolve": "changes_customer_form",
    "portfolio:uti_exit": "post_only",
    "portfolio:task_complete": "post_only",
    "portfolio:uti_board": "logged_in",
    "portfolio:import": "creates_customers",
    "portfolio:import_job": "follows_import",
    "portfolio:onboarding": "logged_in",
    "accounts:password_change": "logged_in",
    "accounts:password_change_done": "logged_in",
    "accounts:profile": "logged_in",
    "accounts:team": "leads",
    "accounts:invite": "admins_only",
    "accounts:invitation_revoke": "post_only",
    "accounts:invitation_resend": "post_only",
    "surveys:campaigns": "logged_in",
    "surveys:campaign_create": "leads",
    "surveys:employees": "leads",
    "surveys:campaign": "sees_campaign",
    "surveys:campaign_activate": "post_only",
    "surveys:campaign_close": "post_only",
    "surveys:campaign_export": "sees_campaign",
    "surveys:chi_customers": "assesses_chi",
    "surveys:chi_assess": "assesses_chi_customer",
    "surveys:overview": "logged_in",
    "surveys:overview_export": "logged_in",
    "metrics:overview": "logged_in",
    "metrics:drilldown": "needs_a_query",
    "metrics:panel_reasons": "logged_in",
    "metrics:panel_unit_economics": "reads_unit_economics",
    "metrics:panel_cohorts": "logged_in",
    "metrics:panel_csms": "logged_in",
    "metrics:panel_save": "logged_in",
    "metrics:panel_operations": "logged_in",
    "metrics:export": "needs_a_query",
    "metrics:operations": "needs_a_query",
    "api-root": "logged_in",
    "api-schema": "logged_in",
    "api-docs": "logged_in",
    "user-list": "logged_in",
    "user-me": "logged_in",
    "user-detail": "sees_person",
    "customer-list": "logged_in",
    "customer-detail": "sees_customer",
    "contact-list": "logged_in",
    "contact-detail": "sees_customer",
    "contact-archive": "post_only",
    "contact-unarchive": "post_only",
    "subscription-list": "logged_in",
    "subscription-detail": "sees_customer",
    "subscription-cancel": "post_only",
    "subscription-change": "post_only",
    "subscription-delinquent": "post_only",
    "subscription-paid": "post_only",
    "mrr-movement-list": "logged_in",
    "mrr-movement-detail": "sees_customer",
    "activity-list": "logged_in",
    "activity-detail": "sees_customer",
    "task-list": "logged_in",
    "task-detail": "sees_customer",
    "task-complete": "post_only",
    "churn-request-list": "logged_in",
    "churn-request-detail": "sees_customer",
    "churn-request-resolve": "post_only",
    "churn-request-save-attempts": "post_only",
    "survey-campaign-list": "logged_in",
    "survey-campaign-detail": "sees_campaign",
    "survey-campaign-results": "sees_campaign",
    "survey-campaign-send": "post_only",
    "survey-response-list": "logged_in",
    "survey-response-detail": "sees_customer",
    "survey-bounces": "admins_only_post",
    "metrics-unit-economics": "reads_unit_economics",
    "metrics-spend": "reads_unit_economics",
    "usage-events": "post_only",
    # The working day: lists scope their rows; snoozing and handing over are writes.
    "portfolio:my_tasks": "logged_in",
    "portfolio:task_snooze": "post_only",
    "portfolio:task_reassign": "post_only",
    "portfolio:search": "logged_in",
    "portfolio:renewals": "logged_in",
    "portfolio:renewals_export": "logged_in",
    "portfolio:notifications": "logged_in",
    # API tokens: a person's own (profile), integrations for admins (can_manage_integrations).
    "accounts:api_token_create": "post_only",
    "accounts:api_token_revoke": "post_only",
    "accounts:integrations": "admins_only",
    "accounts:integration_revoke": "post_only",
    # Settings: read by admins and leaders (can_read_settings), changed by admins (can_change_settings: POSTs).
    "accounts:settings": "leads",
    "journey_settings:policies": "leads",
    "journey_settings:churn_reasons": "leads",
    "journey_settings:churn_category_add": "post_only",
    "journey_settings:churn_category_retire": "post_only",
    "journey_settings:churn_category_restore": "post_only",
    "journey_settings:churn_reason_retire": "post_only",
    "journey_settings:churn_reason_restore": "post_only",
    "journey_settings:churn_reason_delete": "post_only",
    "journey_settings:reviews": "leads",
    "journey_settings:review_question_edit": "post_only",
    "journey_settings:review_question_move": "post_only",
    "journey_settings:review_question_retire": "post_only",
    "journey_settings:review_question_restore": "post_only",
    "journey_settings:review_question_delete": "post_only",
    "journey_settings:milestones": "leads",
    "journey_settings:milestone_template_edit": "post_only",
    "journey_settings:milestone_template_move": "post_only",
    "journey_settings:milestone_template_retire": "post_only",
    "journey_settings:milestone_template_restore": "post_only",
    "survey_settings:defaults": "leads",
    "survey_settings:chi": "leads",
    # Teams and people: read by admins and leaders (can_read_people), changed by admins (can_manage_people: POSTs).
    "people_settings:people": "leads",
    "people_settings:team_create": "post_only",
    "people_settings:team_update": "post_only",
    "people_settings:person_update": "post_only",
    "people_settings:person_active": "post_only",
    # Metrics' unit economics: spend entered by leaders and admins (can_enter_spend), margin by admins.
    "metrics:spend": "post_only",
    "metrics:spend_import": "leads",
    "metrics:gross_margin": "post_only",
    # Health: pages scope their customers; the backtest is for leaders and admins (can_read_health_backtest);
    # the usage import follows can_import; profiles are read by everyone (edited by admins: a POST).
    "health:usage_import": "creates_customers",
    "health:override_start": "post_only",
    "health:override_end": "post_only",
    "health:overrides": "logged_in",
    "health:day_red": "logged_in",  # My day's card of the customers gone red: each person's own
    "health:overview": "logged_in",
    "health:customers": "logged_in",
    "health:profiles": "logged_in",
    "health:profile": "logged_in",
    "health:backtest": "leads",
    # Playbooks: everyone reads; leaders and admins author (can_author_playbooks); every change is a POST; a
    # run is its customer's (visible_filter).
    "playbooks:list": "logged_in",
    "playbooks:create": "leads",
    "playbooks:detail": "logged_in",
    "playbooks:settings": "post_only",
    "playbooks:step_add": "post_only",
    "playbooks:step_remove": "post_only",
    "playbooks:step_move": "post_only",
    "playbooks:step_test_send": "post_only",
    "playbooks:publish": "post_only",
    "playbooks:pause": "post_only",
    "playbooks:resume": "post_only",
    "playbooks:preview": "logged_in",
    "playbooks:start": "post_only",
    "playbooks:start_bulk": "post_only",
    "playbooks:run": "sees_customer",
    "playbook-list": "logged_in",
    "playbook-detail": "logged_in",
    "playbook-run-list": "logged_in",
    "playbook-run-detail": "sees_customer",
    "metrics-summary": "logged_in",
    "metrics-csms": "logged_in",
    "metrics-customers": "needs_a_query_api",
    "metrics-operations": "logged_in",
    "metrics-churn-requests": "logged_in",
    # The Settings API: read by admins and leaders (can_read_settings, can_read_people: a leader their teams'
    # people), changed by admins (can_change_settings, can_manage_people: the POSTs below).
    **dict.fromkeys(SETTINGS_API_READS, "leads"),
    **dict.fromkeys(SETTINGS_API_ACTIONS, "reads_settings_post"),
}


# --- POST: who is refused ------------------------------------------------------------------------------------------
# "-" refused (403/404, or 405 where the route takes no POST at all; nothing written), "+" let through (whatever
# the body earns: a redirect, a 422, a 201), "0" let through to find nothing of the body's within reach (nothing
# written), in ROLES order. A route without a row here follows its GET rule: the roles GET refuses, POST refuses too.
POST_RULES: dict[str, tuple[str, str]] = {
    "changes_customer": ("-+-++", "changeable_filter: a viewer reads only; an ISM not implementing it sees nothing"),
    "reassigns": ("---++", "can_reassign: leaders and admins hand customers over"),
    "creates_customers": ("--+++", "can_create_customers: ISMs, leaders, admins"),
    "leads": ("---++", "can_lead: campaigns (campaigns_managed_filter), spend, playbooks (can_edit_playbooks)"),
    "admins_only": ("----+", "admins only: invitations, integrations, the gross margin, bounces"),
    "own_token": ("+++++", "anyone names a token of their own"),
    "revokes_token": (
        "-+-++",
        "api_tokens_revocable_filter: the CSM's own token; their leader, admins; a viewer or an ISM only their own",
    ),
    "writes": (
        "-+0++",
        "can_write, then only the customers changeable_filter gives: an ISM not implementing it starts nothing",
    ),
    "sends_usage": ("-++++", "can_write: usage events for the customers the token's person sees"),
    "reads_only": ("-++++", "a read-only endpoint: 405 to everyone who writes, 403 to a viewer before that"),
    "own_rows": ("+++++", "own_rows_filter: anyone keeps views of their own"),
}
POST_ROUTE_RULES = {
    "portfolio:reassign": "reassigns",
    **dict.fromkeys(
        [
            "portfolio:activity_add",
            "portfolio:task_add",
            "portfolio:contact_add",
            "portfolio:contact_edit",
            "portfolio:contact_archive",
            "contact-archive",
            "contact-unarchive",
            "portfolio:customer_task_complete",
            "portfolio:opportunity_add",
            "portfolio:opportunity_close",
            "portfolio:milestone_achieve",
            "portfolio:move_to_ongoing",
            "portfolio:churn_open",
            "portfolio:churn_save",
            "portfolio:churn_resolve",
            "portfolio:uti_exit",
            "portfolio:task_complete",
            "portfolio:task_snooze",
            "portfolio:task_reassign",
            "health:override_start",
            "health:override_end",
            "playbooks:start",
            "contact-list",
            "subscription-list",
            "activity-list",
            "task-list",
            "churn-request-list",
            "subscription-cancel",
            "subscription-change",
            "subscription-delinquent",
            "subscription-paid",
            "task-complete",
            "churn-request-resolve",
            "churn-request-save-attempts",
        ],
        "changes_customer",
    ),
    "customer-list": "creates_customers",
    **dict.fromkeys(
        [
            "surveys:campaign_activate",
            "surveys:campaign_close",
            "metrics:spend",
            "metrics-spend",
            "playbooks:settings",
            "playbooks:step_add",
            "playbooks:step_remove",
            "playbooks:step_move",
            "playbooks:publish",
            "playbooks:pause",
            "playbooks:resume",
            "playbooks:step_test_send",
        ],
        "leads",
    ),
    **dict.fromkeys(
        [
            "accounts:invitation_revoke",
            "accounts:invitation_resend",
            "accounts:integration_revoke",
            "metrics:gross_margin",
            "survey-bounces",
            "journey_settings:churn_category_add",
            "journey_settings:churn_category_retire",
            "journey_settings:churn_category_restore",
            "journey_settings:churn_reason_retire",
            "journey_settings:churn_reason_restore",
            "journey_settings:churn_reason_delete",
            "journey_settings:reviews",
            "journey_settings:review_question_edit",
            "journey_settings:review_question_move",
            "journey_settings:review_question_retire",
            "journey_settings:review_question_restore",
            "journey_settings:review_question_delete",
            "journey_settings:milestones",
            "journey_settings:milestone_template_edit",
            "journey_settings:milestone_template_move",
            "journey_settings:milestone_template_retire",
            "journey_settings:milestone_template_restore",
            "people_settings:team_create",
            "people_settings:team_update",
            "people_settings:person_update",
            "people_settings:person_active",
        ],
        "admins_only",
    ),
    # The Settings API: every write is an admin's (a leader reads).
    **dict.fromkeys(
        [*SETTINGS_API_READS, *SETTINGS_API_ACTIONS],
        "admins_only",
    ),
    "accounts:api_token_create": "own_token",
    "accounts:api_token_revoke": "revokes_token",
    "playbooks:start_bulk": "writes",
    "survey-campaign-send": "changes_customer",
    "usage-events": "sends_usage",
    **dict.fromkeys(
        ["portfolio:saved_view_save", "portfolio:saved_view_rename", "portfolio:saved_view_delete"], "own_rows"
    ),
    **dict.fromkeys(
        [
            "api-root",
            "user-list",
            "user-me",
            "user-detail",
            "customer-detail",
            "contact-detail",
            "subscription-detail",
            "mrr-movement-list",
            "mrr-movement-detail",
            "activity-detail",
            "task-detail",
            "churn-request-detail",
            "survey-campaign-list",
            "survey-campaign-detail",
            "survey-campaign-results",
            "survey-response-list",
            "survey-response-detail",
        ],
        "reads_only",
    ),
}


def post_body(route: str, world: dict, org) -> dict:
    """What an allowed role would send, where a refusal could depend on it; nothing elsewhere. The customer stays
    its CSM's (handed to them again) and the contact surveyed is one the routes before leave in place."""
    customer, today = world["customer"], timezone.localdate()
    contact = customer.contacts.exclude(pk=world["contact"].pk).first()
    bodies = {
        "portfolio:reassign": {"to_owner": org.csm_a.pk, "customers": [customer.pk]},
        "portfolio:task_reassign": {"owner": org.csm_a.pk},
        "playbooks:start_bulk": {"playbook": world["playbook"].pk, "customers": [customer.pk]},
        "customer-list": {"name": "Rede Nova Farma", "segment": "mid", "owner": org.csm_a.pk},
        "contact-list": {"customer": customer.pk, "name": "Ana Ribeiro", "email": "ana.ribeiro@novafarma.com.br"},
        "subscription-list": {
            "customer": customer.pk,
            "product": "Leme",
            "plan": "Business",
            "amount_cents": 50_000,
            "start_date": str(today),
        },
        "activity-list": {"customer": customer.pk, "kind": "note", "title": "Alinhamento"},
        "task-list": {"customer": customer.pk, "owner": org.csm_a.pk, "title": "Ligar", "due_date": str(today)},
        "churn-request-list": {
            "customer": customer.pk,
            "kind": "voluntary",
            "reason": "budget-cut",
            "detail": "Fusão com outra rede cortou o orçamento de ferramentas em 40%",
            "requested_on": str(today - timedelta(days=1)),
        },
        "survey-campaign-send": {"contact": contact.pk},
    }
    return bodies.get(route, {})


def writes(queries: list[dict]) -> list[str]:
    """The statements that changed data, but those that only note a visit (a token's last use, the session)."""
    return [
        q["sql"][:120]
        for q in queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
        and not q["sql"].startswith(('UPDATE "accounts_apitoken" SET "last_used', 'UPDATE "django_session"'))
        and "django_session" not in q["sql"][:40]
    ]


def matrix_routes() -> list[Route]:
    """Every route but the public ones, Django's admin (staff, its own permissions) and the ``.json`` twins of
    the API's routes (the same view)."""
    return [r for r in routes() if str(r) not in PUBLIC and r.scope != "admin" and "format" not in r.params]


def test_the_table_names_every_route_and_only_real_ones():
    names = {str(r) for r in matrix_routes()}

    assert names - set(ROUTE_RULES) == set(), "say in ROUTE_RULES what each role gets on these new routes"
    assert set(ROUTE_RULES) - names == set()
    assert set(ROUTE_RULES.values()) <= set(RULES)


def role_world(org) -> dict:
    """Team A's world, its campaigns made by its leader."""
    return team_world(
        org.csm_a,
        chi_campaign=CampaignFactory(kind=SurveyKind.CHI, actor=org.leader_a),
        nps=CampaignFactory(kind=SurveyKind.NPS, actor=org.leader_a),
        invitation=account_services.invitation_create(
            email="nova@empresa.com.br", role=Role.CSM, team=org.team_a, invited_by=org.admin
        ),
        integration_token=account_services.api_token_create(
            user=org.admin, name="Eventos do produto", actor=org.admin, scope=TokenScope.USAGE_EVENTS
        )[0],
        health_profile=default_health_profile(),
    )


def role_clients(org, client_for, api_for) -> dict:
    """Each role's (page client, API client), answering errors as a browser would see them."""
    people = {"viewer": org.viewer_a, "csm": org.csm_a, "ism": org.ism_a, "leader": org.leader_a, "admin": org.admin}
    clients = {}
    for role, user in people.items():
        page, api = client_for(user), api_for(user)
        page.raise_request_exception = api.raise_request_exception = False
        clients[role] = (page, api)
    return clients


@pytest.mark.django_db
def test_every_route_answers_each_role_what_access_says(org, client_for, api_for):
    # given team A's world, its campaigns made by its leader
    world = role_world(org)
    clients = role_clients(org, client_for, api_for)

    # when every role asks every route
    wrong, answers = [], 0
    for route in matrix_routes():
        url = route.url(fill(route, world))
        expected, _why = RULES[ROUTE_RULES[str(route)]]
        for role, must in zip(ROLES, expected, strict=True):
            page, api = clients[role]
            got = (api if route.is_api else page).get(url).status_code
            answers += 1
            if got != must:
                wrong.append(f"{role:6} GET {url} ({route}, {ROUTE_RULES[str(route)]}): {got}, must be {must}")

    # then each answer is the table's
    print(f"role matrix: {len(matrix_routes())} routes × {len(ROLES)} roles = {answers} answers checked")
    assert not wrong, "answers that differ from accounts.access:\n" + "\n".join(wrong)
    assert answers == len(ROUTE_RULES) * len(ROLES)


def post_expectation(route: str) -> str:
    """The "+-" string of a route's POST: its own row, else the roles its GET rule refuses."""
    if route in POST_ROUTE_RULES:
        return POST_RULES[POST_ROUTE_RULES[route]][0]
    return "".join("-" if code in (403, 404) else "+" for code in RULES[ROUTE_RULES[route]][0])


def test_every_write_route_says_who_may_post():
    writes_only = {name for name, rule in ROUTE_RULES.items() if rule == "post_only"}

    assert writes_only - set(POST_ROUTE_RULES) == set(), "say in POST_ROUTE_RULES who may POST to these"
    assert set(POST_ROUTE_RULES) <= set(ROUTE_RULES)
    assert set(POST_ROUTE_RULES.values()) <= set(POST_RULES)


@pytest.mark.django_db
def test_every_route_refuses_a_post_from_the_roles_access_refuses_and_writes_nothing(org, client_for, api_for):
    # given team A's world and each role's clients
    world = role_world(org)
    clients = role_clients(org, client_for, api_for)

    # when every role POSTs to every route, the refused ones first (an allowed POST may change what follows)
    wrong, refused, let_through = [], 0, 0
    for route in matrix_routes():
        name = str(route)
        url = route.url(fill(route, world))
        body = post_body(name, world, org)
        expected = dict(zip(ROLES, post_expectation(name), strict=True))
        for role in sorted(ROLES, key=lambda r: expected[r] == "+"):
            page, api = clients[role]
            with CaptureQueriesContext(connection) as queries:
                response = api.post(url, body, format="json") if route.is_api else page.post(url, body)
            got, written = response.status_code, writes(queries.captured_queries)
            if expected[role] == "-":
                refused += 1
                # an API call naming an object the role may not reach answers 400 on that field
                field_refusal = got == 400 and bool(set(body) & set(response.json()))
                if not (got in (403, 404, 405) or field_refusal) or written:
                    wrong.append(f"{role:6} POST {url} ({name}): {got}, must be refused; wrote {written}")
            elif expected[role] == "0":
                refused += 1
                if got >= 400 or written:
                    wrong.append(f"{role:6} POST {url} ({name}): {got}, must find nothing to change; wrote {written}")
            else:
                let_through += 1
                if got >= 500 or (got == 403 and name in POST_ROUTE_RULES):
                    wrong.append(f"{role:6} POST {url} ({name}): {got}, must be let through")

    # then each refusal is the table's, and nothing was written by a refused role
    print(f"role matrix (POST): {refused} refusals and {let_through} let through, over {len(matrix_routes())} routes")
    assert not wrong, "POST answers that differ from accounts.access:\n" + "\n".join(wrong)
    assert refused > 150
