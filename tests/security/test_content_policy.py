"""Every answer carries the Content-Security-Policy and the Permissions-Policy, and nothing Leme renders for a
browser needs the policy loosened: no inline script, event handler, <style> or style attribute, and no htmx
feature that injects or evaluates code. (The browser test proves it on the pages themselves.)"""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Emails are read by mail programs, which need inline styles and never see these headers.
EMAIL_TEMPLATES = re.compile(r"(^|/)(email/|password_reset_email\.html$)")

INLINE = {
    "inline <script> code": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(ld\+)?json\")[^>]*>"),
    "<style> block": re.compile(r"<style\b"),
    "style attribute": re.compile(r"\sstyle\s*="),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE),
    "hx-on attribute (an inline script)": re.compile(r"\shx-on(:|-)"),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "htmx code evaluation (js: / javascript: values)": re.compile(r"hx-vals=['\"]\s*js:"),
}


def browser_templates() -> list[Path]:
    return [
        path
        for path in sorted(TEMPLATES.rglob("*.html"))
        if not EMAIL_TEMPLATES.search(path.relative_to(TEMPLATES).as_posix())
    ]


def test_no_template_holds_what_the_policy_forbids():
    found = [
        f"{path.relative_to(TEMPLATES)}:{number}: {what}"
        for path in browser_templates()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for what, pattern in INLINE.items()
        if pattern.search(line)
    ]
    assert found == []


def test_htmx_injects_no_style_and_evaluates_nothing():
    base = (TEMPLATES / "base.html").read_text()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", base).group(1)
    assert '"includeIndicatorStyles": false' in config
    assert '"allowEval": false' in config
    assert '"attributesToSettle": ["class", "width", "height"]' in config


def test_the_policy_is_the_strict_one():
    policy = settings.LEME_CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/login/", "/", "/portfolio/", "/api/v1/customers/", "/nada-aqui/", "/healthz"])
def test_every_answer_carries_both_policies(client, org, url):
    client.force_login(org.csm_a)
    response = client.get(url)
    assert response["Content-Security-Policy"] == settings.LEME_CONTENT_SECURITY_POLICY
    assert "camera=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "payment=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_the_public_survey_page_carries_the_policy(client, org):
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    _, token = make_delivery(make_campaign("nps"), contact=contact, language="en")
    response = client.get(f"/s/{token}/?score=9")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == settings.LEME_CONTENT_SECURITY_POLICY


@pytest.mark.django_db
def test_the_api_documentation_loads_its_script_from_a_file(client, org):
    client.force_login(org.admin)
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    assert not INLINE["inline <script> code"].search(page.text)
    assert not INLINE["style attribute"].search(page.text)
    assert not INLINE["<style> block"].search(page.text)
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
