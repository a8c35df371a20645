"""A JSON body nested deeper than Python's recursion limit is a 400, like any malformed JSON (core.api)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/tasks/", "/api/v1/subscriptions/"])
def test_a_json_body_nested_thousands_deep_is_a_400(org, api_for, url):
    body = "[" * 100_000 + "]" * 100_000

    response = api_for(org.leader_a).post(url, body, content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
