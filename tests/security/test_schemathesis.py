"""Schemathesis over the served OpenAPI schema (``/api/v1/schema/``), as a team's leader (a personal token) and as
an integration (a token scoped to usage events): every operation is called with data generated from its schema —
valid data, on team A's real objects where the path names one, and data the schema forbids — and answers without
a server error, in the content type and the shape its schema declares.

The examples are bounded and derandomized (the same cases every run, no shrinking, no example database) so the
probe stays a few seconds of the suite; the request counts are printed.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from accounts import services as account_services
from accounts.models import Role, TokenScope
from surveys.models import SurveyKind
from tests.surveys.factories import CampaignFactory
from tests.test_door import default_health_profile, team_world

SCHEMA = "/api/v1/schema/?format=json"
# The resource of an operation's path (what comes between /api/v1/ and its ``{id}``: "customers",
# "settings/teams") → the object of team A's world its ``{id}`` names.
OBJECTS = {
    "users": "csm",
    "customers": "customer",
    "contacts": "contact",
    "subscriptions": "subscription",
    "mrr-movements": "mrr_movement",
    "activities": "activity",
    "tasks": "task",
    "churn-requests": "churn_request",
    "survey-campaigns": "chi_campaign",
    "survey-responses": "response",
    "playbooks": "playbook",
    "playbook-runs": "run",
    "settings/churn-categories": "churn_category",
    "settings/churn-reasons": "churn_reason",
    "settings/review-questions": "review_question",
    "settings/chi-criteria": "chi_criterion",
    "settings/teams": "team",
    "settings/people": "colleague",
    "settings/milestone-templates": "milestone_template",
}


def resource(path: str) -> str:
    """``/api/v1/customers/{id}/`` → "customers"; ``/api/v1/settings/teams/{id}/retire/`` → "settings/teams"."""
    return path.removeprefix("/api/v1/").split("/{", 1)[0].strip("/")


# Examples per operation: (valid, invalid). An integration token is refused everywhere but where its scope lets it
# in (usage events): one case each elsewhere suffices.
LEADER = {"*": (3, 2)}
INTEGRATION = {"*": (1, 1), "/api/v1/usage-events/": (4, 2)}
CONFORMING = [not_a_server_error, content_type_conformance, response_schema_conformance]
BOUNDED = settings(
    max_examples=1,  # replaced per operation
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@schemathesis.serializer("message/rfc822")
def raw_message(_ctx, value) -> bytes:
    """The bounce endpoint takes a raw e-mail (a DSN): what schemathesis generates for it, as bytes."""
    return value if isinstance(value, bytes) else str(value).encode()


@contextmanager
def same_connection() -> Iterator[None]:
    """Django closes the database connection when a request ends; the test's transaction (and its data) must
    survive every request, as with Django's test client."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def probe(schema, key: str, world: dict, budget: dict[str, tuple[int, int]]) -> tuple[int, list[str]]:
    """Every operation of the served schema, called with ``key``'s token: (requests made, failures)."""
    headers = {"Authorization": f"Token {key}"}
    made, failures = 0, []

    def run(operation, mode: GenerationMode, examples: int, checks: list[Callable]) -> None:
        nonlocal made
        ids = (
            {"id": world[OBJECTS[resource(operation.path)]].pk}
            if "{id}" in operation.path and mode.is_positive
            else None
        )

        @given(case=operation.as_strategy(mode, path_parameters=ids))
        @settings(BOUNDED, max_examples=examples)
        def call(case):
            nonlocal made
            response = case.call(headers=headers)
            made += 1
            try:
                case.validate_response(response, checks=checks)
            except FailureGroup as group:
                failures.extend(
                    f"{operation.method.upper()} {case.formatted_path} ({mode}): {failure.title} "
                    f"[{response.status_code}] {failure.message[:300]}"
                    for failure in group.exceptions
                )

        try:
            call()
        except Unsatisfiable:
            assert not mode.is_positive, f"{operation.label}: schemathesis found no valid data to send"

    for result in schema.get_all_operations():
        operation = result.ok()
        valid, invalid = budget.get(operation.path, budget["*"])
        run(operation, GenerationMode.POSITIVE, valid, CONFORMING)
        # Data the schema forbids must be refused with a 4xx; what the refusal looks like is the operation's own.
        run(operation, GenerationMode.NEGATIVE, invalid, [not_a_server_error])
    return made, failures


@pytest.mark.django_db
def test_the_served_schema_holds_for_a_leader_and_an_integration(org):
    # given team A's world, its campaigns made by its leader, and the two identities
    world = team_world(
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
    _token, leader_key = account_services.api_token_create(user=org.leader_a, name="Script", actor=org.leader_a)
    _token, integration_key = account_services.api_token_create(
        user=org.admin, name="Produto", actor=org.admin, scope=TokenScope.USAGE_EVENTS
    )

    # when schemathesis calls every operation as each
    started = time.process_time()
    with same_connection():
        schema = schemathesis.openapi.from_wsgi(
            SCHEMA, get_wsgi_application(), headers={"Authorization": f"Token {leader_key}"}
        )
        leader = probe(schema, leader_key, world, LEADER)
        integration = probe(schema, integration_key, world, INTEGRATION)

    # then no answer is a server error or strays from the schema
    print(
        f"schemathesis: {leader[0]} requests as a leader, {integration[0]} as an integration, "
        f"{time.process_time() - started:.1f} s of CPU"
    )
    failures = leader[1] + integration[1]
    assert not failures, f"{len(failures)} answers break the schema or fail:\n" + "\n".join(sorted(set(failures)))
    assert leader[0] > 0
    assert integration[0] > 0
