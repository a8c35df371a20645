"""Structural checks that nobody can forget the door.

Every URL pattern is walked (``get_resolver()``, includes, namespaces and the API routers alike):

* every API viewset takes its queryset from the door;
* every route outside an explicit list of public ones needs a login, for GET and for POST;
* every route that takes an id answers 404 to people of another team, for every method it has, and changes
  nothing of that team's.

Each URL parameter is filled from an explicit map (the route's namespace, or the API viewset's basename, and
the parameter's name → which object it names). A parameter the map does not know fails the tests: a new
route is covered, or it says why it needs no cover, never skipped.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts import services as account_services
from accounts.access import can_read_people
from accounts.api.base import ScopedViewSetMixin
from accounts.models import Role, TokenScope
from health.models import HealthProfile
from playbooks import services as playbook_services
from portfolio import services
from portfolio.models import ChurnReason, ReviewPart, ReviewTemplateQuestion
from surveys.models import ChiCriterion, SurveyKind
from tests.factories import UserFactory
from tests.playbooks.factories import live_playbook, task_step
from tests.portfolio.factories import ContactFactory, CustomerFactory, ImportJobFactory, hand_off, subscribe
from tests.surveys.factories import CampaignFactory, DeliveryFactory, ResponseFactory

# --- The routes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str | None  # with its namespaces: "portfolio:customer"
    scope: str  # what the parameters belong to: the namespace ("portfolio"), or "api:<basename>" for a viewset
    route: str
    params: tuple[str, ...]
    callback: Callable

    @property
    def is_api(self) -> bool:
        cls = getattr(self.callback, "cls", None)
        return isinstance(cls, type) and issubclass(cls, APIView)

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"

    def methods(self) -> list[str]:
        """GET and POST everywhere, and whatever else an API route answers (PUT, PATCH, DELETE). HEAD is GET's
        handler (DRF adds it to ``actions`` on the route's first request)."""
        actions = getattr(self.callback, "actions", None) or {}
        return ["get", "post", *sorted(set(actions) - {"get", "post", "head"})]

    def url(self, values: dict) -> str:
        if self.route in UNNAMED:
            url = UNNAMED[self.route]
        elif self.name is None:
            # nothing to reverse: put the values into the route's <converter:parameter> placeholders
            url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match[1]]), self.route)
        else:
            url = reverse(self.name, kwargs=values)
        assert resolve(url).func is self.callback, f"{url} does not lead back to {self.route}"
        return url

    def __str__(self) -> str:
        return self.name or self.route


def walk(patterns, namespace: str = "", route: str = "", params: tuple[str, ...] = ()) -> Iterator[Route]:
    for pattern in patterns:
        found = params + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, inner, route + str(pattern.pattern), found)
        elif isinstance(pattern, URLPattern):
            basename = getattr(pattern.callback, "initkwargs", {}).get("basename")
            scope = f"api:{basename}" if basename else namespace.rstrip(":")
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield Route(name, scope, route + str(pattern.pattern), found, pattern.callback)


def routes() -> list[Route]:
    return list(walk(get_resolver().url_patterns))


# --- What may be reached without a login, and what no team owns -----------------------------------------------

ANSWERING = "customers and employees answer surveys without an account (tokens: tests/surveys/test_public_pages.py)"
RESETTING = "password reset is for people who cannot log in"
CHOOSING_A_LANGUAGE = "anyone chooses the language, before logging in too"

PUBLIC = {
    "accounts:login": "the login page itself",
    "accounts:logout": "logging out needs no login",
    "accounts:password_reset": RESETTING,
    "accounts:password_reset_done": RESETTING,
    "accounts:password_reset_confirm": RESETTING,
    "accounts:password_reset_complete": RESETTING,
    "accounts:invitation_accept": "the invited person has no account yet (tests/accounts/test_invitations.py)",
    "accounts:digest_unsubscribe": "a mail client's one-click unsubscribe (RFC 8058) carries no session: the signed "
    "link is the authority (tests/portfolio/test_digest.py)",
    "accounts:language_set": CHOOSING_A_LANGUAGE,
    "set_language": CHOOSING_A_LANGUAGE,
    "healthz": "the load balancer's probe",
    "survey_public:answer": ANSWERING,
    "survey_public:thanks": ANSWERING,
    "survey_public:unsubscribe": ANSWERING,
    "playbook_public:unsubscribe": "contacts leave playbook emails without an account (tests/playbooks/test_emails.py)",
    "admin:login": "the admin's own login page",
    "admin:logout": "logging out needs no login",
}

ADMINS_ONLY = "admins only, refused before any lookup; invitations belong to the workspace, not a team"

# Routes with an id that names something no team owns: a 404 for another team would be wrong.
NOT_TEAM_SCOPED = {
    "health:profile": "health profiles are the workspace's shared configuration: everyone reads them, admins change "
    "them (tests/health/test_profiles_editor.py)",
    "accounts:invitation_revoke": ADMINS_ONLY,
    "accounts:invitation_resend": ADMINS_ONLY,
    "accounts:integration_revoke": "admins only, refused before any lookup; integration tokens belong to the workspace",
    "portfolio:saved_view_rename": "a saved portfolio view is its person's alone: anyone else, their leader too, gets "
    "404 (tests/portfolio/test_saved_views.py)",
    "portfolio:saved_view_delete": "a saved portfolio view is its person's alone (tests/portfolio/test_saved_views.py)",
    **dict.fromkeys(
        [
            "settings-churn-category-detail",
            "settings-churn-category-retire",
            "settings-churn-category-restore",
            "settings-churn-reason-detail",
            "settings-churn-reason-retire",
            "settings-churn-reason-restore",
            "settings-review-question-detail",
            "settings-review-question-move",
            "settings-review-question-retire",
            "settings-review-question-restore",
            "settings-chi-criterion-detail",
            "settings-milestone-template-detail",
            "settings-milestone-template-move",
            "settings-milestone-template-retire",
            "settings-milestone-template-restore",
        ],
        "the workspace's configuration, the same for every team: admins and leaders read it, admins change it, "
        "anyone else is refused before any lookup (tests/settings_area/test_api_*.py)",
    ),
}

# Routes of a team's objects that refuse (403) before any lookup whoever may not read them (accounts.access), as
# they refuse the same request with their own team's ids: for those who may read them, another team's id is a 404.
READERS_ONLY = {
    "settings-team-detail": can_read_people,
    "settings-person-detail": can_read_people,
    "settings-person-deactivate": can_read_people,
    "settings-person-reactivate": can_read_people,
}

# Whole namespaces left out of the check for another team's objects.
NOT_TEAM_SCOPED_NAMESPACES = {
    "admin": "Django's admin is for staff, who see every team; it has its own login (checked below) and permissions "
    "(tests/portfolio/test_admin.py)",
}

# Django's admin: the catch-all that sends any other path under /admin/ to the admin login has no name, and
# its parameter is a regular expression's.
UNNAMED = {"admin/(?P<url>.*)$": "/admin/no-such-page/"}

# --- Which object each URL parameter names ----------------------------------------------------------------

# (scope, parameter) → the key of the object in a team's world (see ``team_world``).
PARAMETERS = {
    ("portfolio", "pk"): "customer",
    ("portfolio", "opportunity_pk"): "opportunity",
    ("portfolio", "contact_pk"): "contact",
    ("portfolio", "milestone_pk"): "milestone",
    ("portfolio", "review_pk"): "review",
    ("portfolio", "churn_pk"): "churn_request",
    ("portfolio", "stay_pk"): "uti_stay",
    ("portfolio", "task_pk"): "task",
    ("portfolio", "view_pk"): "saved_view",
    ("portfolio", "job_pk"): "import_job",
    ("health", "pk"): "customer",
    ("surveys", "pk"): "chi_campaign",
    ("surveys", "customer_pk"): "customer",
    ("playbooks", "pk"): "playbook",
    ("playbooks", "customer_pk"): "customer",
    ("playbooks", "run_pk"): "run",
    ("accounts", "pk"): "invitation",
    ("accounts", "token_pk"): "api_token",
    ("accounts", "integration_pk"): "integration_token",
    ("health", "profile_pk"): "health_profile",
    ("api:user", "pk"): "csm",
    ("api:customer", "pk"): "customer",
    ("api:contact", "pk"): "contact",
    ("api:subscription", "pk"): "subscription",
    ("api:mrr-movement", "pk"): "mrr_movement",
    ("api:activity", "pk"): "activity",
    ("api:task", "pk"): "task",
    ("api:churn-request", "pk"): "churn_request",
    ("api:survey-campaign", "pk"): "chi_campaign",
    ("api:survey-response", "pk"): "response",
    ("api:playbook", "pk"): "playbook",
    ("api:playbook-run", "pk"): "run",
    ("api:settings-churn-category", "pk"): "churn_category",
    ("api:settings-churn-reason", "pk"): "churn_reason",
    ("api:settings-review-question", "pk"): "review_question",
    ("api:settings-chi-criterion", "pk"): "chi_criterion",
    ("api:settings-team", "pk"): "team",
    ("api:settings-person", "pk"): "colleague",
    ("api:settings-milestone-template", "pk"): "milestone_template",
}
# Objects both teams see: the same row in both worlds. (Survey campaigns belong to a team: each world has its
# own, made by its leader, and another team's is a 404 like any of its objects.)
SHARED = {
    "invitation",
    "integration_token",
    "health_profile",
    # the workspace's Settings, the same rows for every team
    "churn_category",
    "churn_reason",
    "review_question",
    "chi_criterion",
    "milestone_template",
}
# Objects of one person, not of a team: anyone else, of either team, gets 404 (their own tests say so).
PERSONAL = {"saved_view"}
# Parameters that name no object.
LITERALS = {"format": "json", "kind": SurveyKind.NPS, "index": 0, "service_model": "high"}
# Django's admin parameters, for the login check only (the admin is for staff, not scoped by team).
ADMIN_LITERALS = {"object_id": "1", "id": "1", "content_type_id": "1", "app_label": "portfolio"}


def object_params(route: Route) -> list[str]:
    return [p for p in route.params if p not in LITERALS]


def fill(route: Route, world: dict, *, foreign: dict | None = None, foreign_params=()) -> dict:
    """The URL's parameters from ``world``'s objects, and those in ``foreign_params`` from ``foreign``'s."""
    values = {}
    for param in route.params:
        if param in LITERALS:
            values[param] = LITERALS[param]
        elif route.route in UNNAMED:
            pass
        elif route.is_admin:
            values[param] = ADMIN_LITERALS[param]
        else:
            key = PARAMETERS[(route.scope, param)]
            values[param] = (foreign if param in foreign_params else world)[key].pk
    return values


def team_scoped(route: Route) -> bool:
    return any(PARAMETERS[(route.scope, p)] not in SHARED | PERSONAL for p in object_params(route))


def id_routes() -> list[Route]:
    """Every route with an object in its URL, outside the public ones and the admin."""
    return [
        r for r in routes() if object_params(r) and str(r) not in PUBLIC and r.scope not in NOT_TEAM_SCOPED_NAMESPACES
    ]


# --- A world of two teams ---------------------------------------------------------------------------------


def team_world(csm, *, chi_campaign, nps, invitation, integration_token, health_profile) -> dict[str, Model]:
    """A customer of ``csm`` past its handoff, with one of everything a URL can name."""
    today = timezone.localdate()
    customer = CustomerFactory(owner=csm, name=f"Cliente de {csm.full_name}")
    milestone = customer.milestones.first()
    hand_off(customer, csm)
    contact = ContactFactory(customer=customer)
    # A second contact: walking the routes archives the first, and the customer stays in the surveys' audiences.
    ContactFactory(customer=customer)
    subscription = subscribe(customer, amount_cents=100_000)
    activity = services.activity_log(customer=customer, kind="note", title="Alinhamento de metas", author=csm)
    task = services.task_create(customer=customer, owner=csm, title="Ligar para a Ana", due_date=today)
    review = services.review_schedule(customer=customer, due_date=today + timedelta(days=30), actor=csm)
    opportunity = services.opportunity_create(
        customer=customer, actor=csm, kind="upsell", source="proactive", title="Plano Business", mrr_cents=50_000
    )
    churn_request = services.churn_request_open(
        customer=customer,
        kind="voluntary",
        reason=ChurnReason.objects.get(code="budget-cut"),
        detail="Fusão com outra rede cortou o orçamento de ferramentas em 40%",
        actor=csm,
    )
    services.save_attempt_add(churn_request=churn_request, offer="Dois meses com 30% de desconto", actor=csm)
    services.churn_request_resolve(churn_request=churn_request, outcome="recovered", actor=csm)
    response = ResponseFactory(delivery=DeliveryFactory(campaign=nps, contact=contact), score=6)
    api_token, _key = account_services.api_token_create(user=csm, name="Planilha de relatórios", actor=csm)
    playbook = live_playbook(
        name=f"Resgate de {csm.full_name}", team=csm.team, steps=[task_step(), task_step("Depois")]
    )
    playbook_services.step_add(playbook=playbook, actor=None, step={"kind": "wait", "days": 3})  # a draft
    run = playbook_services.run_start(playbook=playbook, customer=customer, actor=csm)
    saved_view = services.saved_view_save(name="Meus clientes em andamento", query="stage=ongoing", actor=csm)
    question = ReviewTemplateQuestion.objects.order_by("pk").first() or ReviewTemplateQuestion.objects.create(
        part=ReviewPart.PAST, key="achieved", text_pt="O que foi alcançado?", text_en="What was achieved?", position=1
    )
    criterion, _created = ChiCriterion.objects.get_or_create(
        position=10, defaults={"text_pt": "Usa os relatórios", "text_en": "Uses the reports"}
    )
    return {
        "csm": csm,
        "customer": customer,
        "milestone": milestone,
        "milestone_template": milestone.template,
        "contact": contact,
        "subscription": subscription,
        "mrr_movement": customer.mrr_movements.get(),
        "activity": activity,
        "task": task,
        "review": review,
        "opportunity": opportunity,
        "churn_request": churn_request,
        "uti_stay": churn_request.uti_stay,
        "response": response,
        "chi_campaign": chi_campaign,
        "invitation": invitation,
        "api_token": api_token,
        "integration_token": integration_token,
        "health_profile": health_profile,
        "playbook": playbook,
        "run": run,
        "saved_view": saved_view,
        "import_job": ImportJobFactory(actor=csm),
        "churn_category": churn_request.reason.category,
        "churn_reason": churn_request.reason,
        "review_question": question,
        "chi_criterion": criterion,
        "team": csm.team,
        # someone of the team an admin may deactivate without changing what the other routes answer
        "colleague": UserFactory(team=csm.team, full_name=f"Colega de {csm.full_name}"),
    }


@dataclass
class Worlds:
    a: dict[str, Model]
    b: dict[str, Model]


def default_health_profile() -> HealthProfile:
    """A default health profile (a data migration's rows: a transactional test before may have emptied them)."""
    import_module("health.migrations.0003_default_profiles").create(django_apps, None)
    return HealthProfile.objects.get(service_model="high", stage="ongoing")


@pytest.fixture
def worlds(org) -> Worlds:
    nps = CampaignFactory(kind=SurveyKind.NPS, name="NPS de relacionamento", actor=org.admin)
    invitation = account_services.invitation_create(
        email="nova@empresa.com.br", role=Role.CSM, team=org.team_b, invited_by=org.admin
    )
    integration_token, _key = account_services.api_token_create(
        user=org.admin, name="Eventos do produto", actor=org.admin, scope=TokenScope.USAGE_EVENTS
    )
    health_profile = default_health_profile()
    shared = {"nps": nps, "invitation": invitation, "health_profile": health_profile}
    shared["integration_token"] = integration_token
    return Worlds(
        a=team_world(org.csm_a, chi_campaign=CampaignFactory(kind=SurveyKind.CHI, actor=org.leader_a), **shared),
        b=team_world(org.csm_b, chi_campaign=CampaignFactory(kind=SurveyKind.CHI, actor=org.leader_b), **shared),
    )


def rows(obj: Model, depth: int = 2) -> dict:
    """Every column of ``obj`` and of the rows under it (its reverse relations, ``depth`` levels down)."""
    found = {(obj._meta.label, obj.pk): {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}}
    if depth:
        for relation in obj._meta.related_objects:
            related = relation.related_model._default_manager.filter(**{relation.field.name: obj})
            for row in related:
                found.update(rows(row, depth - 1))
    return found


def snapshot(world: dict[str, Model]) -> dict:
    everything = {}
    for key, obj in world.items():
        if key not in SHARED:
            everything.update(rows(type(obj)._default_manager.get(pk=obj.pk)))
    return everything


# --- The API's viewsets --------------------------------------------------------------------------------------


def test_every_api_viewset_takes_its_queryset_from_the_door():
    viewsets = {r.callback.cls for r in routes() if getattr(r.callback, "actions", None)}
    assert len(viewsets) >= 2
    unscoped = [cls.__name__ for cls in viewsets if not issubclass(cls, ScopedViewSetMixin)]
    assert unscoped == []
    with_raw_queryset = [cls.__name__ for cls in viewsets if getattr(cls, "queryset", None) is not None]
    assert with_raw_queryset == []


# --- The maps above stay true -------------------------------------------------------------------------------


def test_every_id_parameter_names_a_known_object():
    unknown = [
        f"{route}: {param}"
        for route in id_routes()
        for param in object_params(route)
        if (route.scope, param) not in PARAMETERS
    ]
    assert unknown == [], "say in PARAMETERS which object these parameters name"
    admin = {param for r in routes() if r.is_admin and r.route not in UNNAMED for param in r.params}
    assert admin - set(ADMIN_LITERALS) == set()


def test_the_lists_of_exceptions_name_real_routes_and_only_shared_ones():
    names = {str(r) for r in routes()}
    assert set(PUBLIC) - names == set()
    assert set(NOT_TEAM_SCOPED) - names == set()
    assert set(READERS_ONLY) - names == set()
    assert set(NOT_TEAM_SCOPED_NAMESPACES) <= {r.scope for r in routes()}
    assert set(UNNAMED) <= {r.route for r in routes() if r.name is None}
    # a route whose id names a team's object is never excused
    excused = [str(r) for r in id_routes() if str(r) in NOT_TEAM_SCOPED and team_scoped(r)]
    assert excused == []
    # a route whose ids name only shared objects says so
    unexplained = [str(r) for r in id_routes() if not team_scoped(r) and str(r) not in NOT_TEAM_SCOPED]
    assert unexplained == [], "list these in NOT_TEAM_SCOPED with the reason, or map their parameters"


# --- Logging in ---------------------------------------------------------------------------------------------


def call(client, method: str, url: str):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, {}, **({"format": "json"} if isinstance(client, APIClient) else {}))


@pytest.mark.django_db
def test_every_route_outside_the_public_ones_needs_a_login(worlds, client, settings):
    # One address walks every route anonymously: more than the anonymous API rate allows (tests/security).
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "anon": "100000/minute"}}
    api = APIClient()
    wrong, checked = [], 0
    for route in routes():
        if str(route) in PUBLIC:
            continue
        url = route.url(fill(route, worlds.a))
        for method in route.methods():
            response = call(api if route.is_api else client, method, url)
            if route.is_api:
                ok = response.status_code == 401
            else:
                login = "/admin/login/" if route.is_admin else "/login/"
                ok = response.status_code == 302 and response["Location"].startswith(f"{login}?next=")
            if not ok:
                wrong.append(f"{method.upper()} {url}: {response.status_code} {response.get('Location', '')}")
            checked += 1
    assert not wrong, "answered without a login:\n" + "\n".join(wrong)
    assert checked > 200


# --- Another team's objects -------------------------------------------------------------------------------------


def variants(route: Route) -> list[tuple[str, ...]]:
    """Which parameters to take from the other team: all of them, then, when a URL names several of a team's
    objects (a customer and its review), each alone under one's own others."""
    own = [p for p in object_params(route) if PARAMETERS[(route.scope, p)] not in SHARED | PERSONAL]
    return [tuple(own)] + ([(p,) for p in own] if len(own) > 1 else [])


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["csm_a", "leader_a"])
def test_another_teams_objects_are_404_on_every_route_and_method(who, org, worlds, client_for, api_for):
    # given a CSM or a leader of team A, and team B's world as it is
    user = getattr(org, who)
    pages, api = client_for(user), api_for(user)
    before = snapshot(worlds.b)
    wrong, checked = [], set()

    # when they ask for every route that takes an id, with team B's ids
    for route in id_routes():
        if not team_scoped(route):
            continue
        client = api if route.is_api else pages
        for method in route.methods():
            for foreign_params in variants(route):
                url = route.url(fill(route, worlds.a, foreign=worlds.b, foreign_params=foreign_params))
                theirs = call(client, method, url).status_code
                # the same request with team A's own objects: the route does answer them
                mine = call(client, method, route.url(fill(route, worlds.a))).status_code
                # a method the route never accepts is refused the same for everyone, before any lookup; so is a
                # route its reader alone may ask
                refused = str(route) in READERS_ONLY and not READERS_ONLY[str(route)](user)
                expected = 405 if mine == 405 else 403 if refused else 404
                if theirs != expected or mine == 404 or (refused and mine != 403):
                    wrong.append(f"{method.upper()} {url}: {theirs} for team B's, {mine} for team A's")
                checked.add(str(route))

    # then every one is a 404, and nothing of team B's changed
    assert not wrong, "another team's objects reached:\n" + "\n".join(wrong)
    assert snapshot(worlds.b) == before
    assert len(checked) >= 30
    assert {"portfolio:review", "surveys:chi_assess", "customer-detail", "survey-response-detail"} <= checked
    assert {
        "surveys:campaign",
        "surveys:campaign_activate",
        "surveys:campaign_close",
        "surveys:campaign_export",
    } <= checked
    assert {
        "surveys:chi_customers",
        "survey-campaign-detail",
        "survey-campaign-results",
        "survey-campaign-send",
    } <= checked


# --- The metrics page's panels ------------------------------------------------------------------------------------

METRICS_PANELS = [
    "metrics:panel_reasons",
    "metrics:panel_unit_economics",
    "metrics:panel_cohorts",
    "metrics:panel_csms",
    "metrics:panel_save",
    "metrics:panel_operations",
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "panel"),
    [("leader_a", name) for name in METRICS_PANELS]
    + [("csm_a", name) for name in METRICS_PANELS if name != "metrics:panel_unit_economics"],
)
def test_the_metrics_panels_show_nothing_of_another_team_even_when_asked_by_its_csm(
    who, panel, org, worlds, client_for
):
    # given a leader or a CSM of team A, and team B's customer with its churn request, task and review
    client = client_for(getattr(org, who))
    theirs = (org.csm_b.full_name, worlds.b["customer"].name)

    # when they load a panel of the metrics page, as htmx does and as its plain link does, filtered by team B's CSM
    answers = [
        client.get(reverse(panel), {"owner": org.csm_b.pk}, headers={"HX-Request": "true"}),
        client.get(reverse(panel), {"owner": org.csm_b.pk}),
    ]

    # then the panel answers, and nothing of team B's is in it
    assert [a.status_code for a in answers] == [200, 200]
    for answer in answers:
        html = answer.content.decode()
        assert 'class="card' in html
        assert not [name for name in theirs if name in html]
