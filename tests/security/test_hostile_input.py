"""Hostile input, kept as probes that run with every test run: bad input is a 4xx, never a 5xx.

The endpoints are not listed by hand, so a new one is probed without anyone remembering to:

* every public route (tests/test_door.py's PUBLIC: no login needed) is fetched with hostile query strings, and
  every field of the forms its page shows is posted with each hostile value;
* every operation of the API's served OpenAPI schema (drf-spectacular's generator) is called with each hostile
  value in each query parameter (reads) and in each property of its request body (writes), plus bodies that
  are hostile as a whole (deep, huge, not an object, not JSON, not a DSN).

Each test prints its figures: requests tried, refused with a 4xx, accepted, server errors (which fail it).
What this does not do, and schemathesis over the served schema did: generate values from each property's
type and check every response against the schema (schemathesis is not a dependency of Leme).
"""

import json
import re
from collections import Counter
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery
from tests.test_door import PARAMETERS, PUBLIC, Route, routes
from tests.test_door import worlds as worlds  # a fixture: the two teams' objects

pytestmark = pytest.mark.django_db

# Values a caller may send in any text position: NUL, very long, control and direction characters, dates a
# database or a calendar cannot take, numbers that are not numbers, a formula, an injection attempt.
HOSTILE_TEXT = [
    "a\x00b",
    "x" * 20_000,
    "\u202e\ufeff\r\n\t𝕏",
    "0001-01-01",
    "9999-12-31T23:59:59+17:30",
    "2026-02-30",
    "NaN",
    "-Infinity",
    "1e400",
    "-1",
    "99999999999999999999999999",
    "' OR 1=1 --",
    '=HYPERLINK("http://mal.example")',
    "../../etc/passwd",
    "",
]
# A shorter list for query strings, each probed on every parameter of every page and operation.
HOSTILE_QUERY = ["a\x00b", "x" * 20_000, "9999-12-31T23:59:59+17:30", "NaN", "-1", "99999999999999999999999999", "'"]
# In a JSON body: the text values that stand for the others, and values of every other type.
HOSTILE_JSON = [
    "a\x00b",
    "x" * 20_000,
    "\u202e\ufeff\r\n\t𝕏",
    "0001-01-01",
    "9999-12-31T23:59:59+17:30",
    "NaN",
    "1e400",
    "' OR 1=1 --",
    "",
    None,
    10**30,
    -1,
    [1, 2],
    {"a": {"b": []}},
]
# Bodies hostile as a whole.
HOSTILE_BODIES = [
    ("deep", "[" * 50_000 + "]" * 50_000),
    ("deep object", '{"a":' * 50_000 + "1" + "}" * 50_000),
    ("huge", json.dumps({"name": "x" * 2_000_000})),
    ("a list", "[1, 2, 3]"),
    ("a string", '"x"'),
    ("not json", "{name: 'x'"),
    ("empty", ""),
    ("nul", '{"name": "a\\u0000b"}'),
]


class Tally:
    """What the probes tried and how each was answered."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []

    def record(self, status: int, what: str) -> None:
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors.append(f"{status} {what}")

    def report(self) -> None:
        tried = sum(self.statuses.values())
        refused = sum(n for status, n in self.statuses.items() if 400 <= status < 500)
        errors = len(self.server_errors)
        statuses = dict(sorted(self.statuses.items()))
        print(
            f"\n{self.name}: {tried} requests, {refused} refused with a 4xx, {tried - refused - errors} answered"
            f" otherwise, {errors} server errors; statuses {statuses}"
        )
        assert self.server_errors == [], "server errors:\n" + "\n".join(self.server_errors[:50])


def short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}…"


# --- Public pages ---------------------------------------------------------------------------------------------


def public_urls(survey_token: str) -> Iterator[tuple[Route, str]]:
    """Every public route once, its parameters filled: a real survey token, made-up ones elsewhere."""
    values = {"token": survey_token, "uidb64": "MQ", "url": "x"}
    for route in routes():
        if str(route) not in PUBLIC:
            continue
        try:
            yield route, route.url({p: values[p] for p in route.params})
        except KeyError:
            pytest.fail(f"{route}: say how to fill {route.params} in public_urls")


def form_fields(html: str) -> list[str]:
    names = set(re.findall(r"""<(?:input|textarea|select)[^>]*\bname=["']([^"']+)["']""", html))
    return sorted(names - {"csrfmiddlewaretoken"})


def test_public_pages_answer_hostile_input_with_a_4xx_never_a_5xx(org):
    # given a real survey link (its pages need a valid token to reach their forms)
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    _delivery, token = make_delivery(make_campaign("nps", actor=org.admin), contact=contact)
    tally = Tally("public pages")
    probed = set()

    for route, url in public_urls(token):
        probed.add(str(route))
        visitor = Client(raise_request_exception=False)
        for value in HOSTILE_QUERY:
            for param in ("next", "score"):
                tally.record(visitor.get(url, {param: value}).status_code, f"GET {url} ?{param}={short(value)}")
        page = Client(raise_request_exception=False).get(url)
        fields = form_fields(page.content.decode(errors="replace")) if page.status_code == 200 else []
        for field in fields or ["next"]:
            for value in HOSTILE_TEXT:
                visitor = Client(raise_request_exception=False)
                response = visitor.post(url, {field: value})
                tally.record(response.status_code, f"POST {url} {field}={short(value)}")

    tally.report()
    assert {"survey_public:answer", "accounts:login", "accounts:password_reset"} <= probed


# --- The API -------------------------------------------------------------------------------------------------


def operations() -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()]


def schema_properties(op: dict, components: dict) -> list[str]:
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref", "")
    return sorted(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})) if ref else []


def concrete(path: str, world: dict) -> str:
    """The schema's path with its {id} filled by the team's object of that route (tests/test_door.py's map)."""
    if "{id}" not in path:
        return path
    basename = resolve(path.replace("{id}", "1")).func.initkwargs["basename"]
    return path.replace("{id}", str(world[PARAMETERS[(f"api:{basename}", "pk")]].pk))


def test_the_api_answers_hostile_input_with_a_4xx_never_a_5xx(org, worlds, api_for):
    # given an admin (who may call every operation) and one team's objects for the ids
    api = api_for(org.admin)
    api.raise_request_exception = False
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    tally = Tally("API")
    writes = 0

    for path, method, op in operations():
        url = concrete(path, worlds.a)
        queries = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        for param in queries:
            for value in HOSTILE_QUERY:
                tally.record(api.get(url, {param: value}).status_code, f"GET {url} ?{param}={short(value)}")
        if method not in ("post", "put", "patch"):
            continue
        writes += 1
        call = getattr(api, method)
        if "message/rfc822" in op.get("requestBody", {}).get("content", {}):
            for name, body in HOSTILE_BODIES:
                response = call(url, body.encode(), content_type="message/rfc822")
                tally.record(response.status_code, f"{method.upper()} {url} body: {name}")
            continue
        for prop in schema_properties(op, components):
            for value in HOSTILE_JSON:
                response = call(url, {prop: value}, format="json")
                tally.record(response.status_code, f"{method.upper()} {url} {prop}={short(value)}")
        for name, body in HOSTILE_BODIES:
            response = call(url, body, content_type="application/json")
            tally.record(response.status_code, f"{method.upper()} {url} body: {name}")
            response = call(url, body, content_type="application/x-www-form-urlencoded")
            tally.record(response.status_code, f"{method.upper()} {url} form body: {name}")

    tally.report()
    assert writes >= 15
