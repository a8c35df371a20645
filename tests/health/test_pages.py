"""Where people see health: the customer page's panel and its override form, the overrides in force, the
portfolio's health column, and My day's customers gone red."""

from datetime import timedelta

import pytest

from accounts.models import User
from core import clock
from health import services
from health.models import HealthOverride
from portfolio.models import Customer
from tests.health.factories import rule, usage, version
from tests.portfolio.factories import CustomerFactory, hand_off

TODAY = clock.today()
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def english(org):
    User.objects.all().update(language="en")


@pytest.fixture
def scored(org, english):
    """An ongoing customer, green yesterday (80) and red today (40): its licences went from 20 to 200."""
    version("high", "ongoing", {"adoption": rule(60, 10, 70), "engagement": rule(40, 4, 22)})
    customer = CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado")
    hand_off(customer, org.csm_a)
    Customer.objects.filter(pk=customer.pk).update(licences=20)
    usage(customer, until=TODAY, users=10, days=31)
    services.scores_recompute(YESTERDAY)
    Customer.objects.filter(pk=customer.pk).update(licences=200)
    services.scores_recompute(TODAY)
    customer.refresh_from_db()
    return customer


def test_the_customer_page_shows_the_score_the_trend_and_why_it_changed(scored, org, client_for):
    page = client_for(org.csm_a).get(f"/customers/{scored.pk}/")
    assert page.status_code == 200
    html = page.text
    assert 'id="health"' in html
    assert "<svg" in html
    assert "<polyline" in html
    assert "Why it changed" in html
    assert "Usage −40: 10 active users a day of 20 licences → 10 active users a day of 200 licences" in html
    assert "From 80 on" in html
    assert "Override the band" in html


def test_a_reader_sees_health_without_the_override_form(scored, org, client_for):
    page = client_for(org.viewer_a).get(f"/customers/{scored.pk}/")
    assert page.status_code == 200
    assert "Why it changed" in page.text
    assert "Override the band" not in page.text


def test_the_panel_reads_in_a_fixed_number_of_queries(scored, org, client_for, django_assert_max_num_queries):
    client = client_for(org.csm_a)
    with django_assert_max_num_queries(60) as two_days:
        client.get(f"/customers/{scored.pk}/")
    for n in range(2, 12):
        services.scores_recompute(TODAY - timedelta(days=n))
    services.override_start(customer=scored, actor=org.csm_a, band="yellow", reason="Renovação em negociação")
    with django_assert_max_num_queries(len(two_days.captured_queries)):
        page = client.get(f"/customers/{scored.pk}/")
    assert "Overridden" in page.text


def test_the_override_form_refuses_empty_then_takes_it(scored, org, client_for):
    client = client_for(org.csm_a)
    url = f"/customers/{scored.pk}/health/override/"

    refused = client.post(url, {}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert refused.text.count('class="errorlist"') >= 3
    assert "<html" not in refused.text
    assert not HealthOverride.objects.exists()

    taken = client.post(
        url,
        {"band": "yellow", "reason": "Sponsor confirmed the renewal yesterday", "ends_on": TODAY + timedelta(days=10)},
        HTTP_HX_REQUEST="true",
    )
    assert taken.status_code == 200
    assert "Overridden" in taken.text
    assert "Sponsor confirmed the renewal yesterday" in taken.text
    scored.refresh_from_db()
    assert (scored.health_band, scored.health_real_band) == ("yellow", "red")

    ended = client.post(f"/customers/{scored.pk}/health/override/end/", HTTP_HX_REQUEST="true")
    assert ended.status_code == 200
    assert "Overridden" not in ended.text
    scored.refresh_from_db()
    assert scored.health_band == "red"
    assert HealthOverride.objects.get().ended_by == org.csm_a


def test_the_override_form_without_javascript(scored, org, client_for):
    client = client_for(org.csm_a)
    refused = client.post(f"/customers/{scored.pk}/health/override/", {"band": "green"})
    assert refused.status_code == 422
    assert "errorlist" in refused.text
    taken = client.post(
        f"/customers/{scored.pk}/health/override/",
        {"band": "green", "reason": "Usage is measured on the wrong account", "ends_on": TODAY},
    )
    assert taken.status_code == 302
    assert HealthOverride.objects.get().band == "green"


def test_a_reader_may_not_override(scored, org, client_for):
    response = client_for(org.viewer_a).post(
        f"/customers/{scored.pk}/health/override/", {"band": "green", "reason": "x", "ends_on": TODAY}
    )
    assert response.status_code == 403
    assert not HealthOverride.objects.exists()


def test_the_overrides_in_force_page_is_scoped(scored, org, client_for):
    services.override_start(customer=scored, actor=org.csm_a, band="yellow", reason="Renovação em negociação")
    theirs = CustomerFactory(owner=org.csm_b, name="Mercado do Bairro")
    services.override_start(customer=theirs, actor=org.csm_b, band="green", reason="Uso medido na conta errada")

    page = client_for(org.leader_a).get("/health/overrides/")
    assert page.status_code == 200
    assert "Padaria Pão Dourado" in page.text
    assert "Mercado do Bairro" not in page.text
    assert "Renovação em negociação" in page.text
    assert "Mercado do Bairro" in client_for(org.admin).get("/health/overrides/").text


def test_the_portfolio_shows_sorts_and_filters_by_health(scored, org, client_for, english):
    green = CustomerFactory(owner=org.csm_a, name="Oficina Boa Vista")
    none = CustomerFactory(owner=org.csm_a, name="Clínica Sem Dados")
    Customer.objects.filter(pk=green.pk).update(health_score=90, health_band="green", health_change_7d=5)
    client = client_for(org.csm_a)

    page = client.get("/portfolio/?sort=-health")
    names = [c.name for c in page.context["page"]]
    assert names == ["Oficina Boa Vista", "Padaria Pão Dourado", "Clínica Sem Dados"]
    assert "↑+5" in page.text
    assert 'class="badge red"' in page.text

    ascending = [c.name for c in client.get("/portfolio/?sort=health").context["page"]]
    assert ascending == ["Padaria Pão Dourado", "Oficina Boa Vista", "Clínica Sem Dados"]
    assert [c.name for c in client.get("/portfolio/?health=red").context["page"]] == ["Padaria Pão Dourado"]
    assert [c.name for c in client.get("/portfolio/?health=none").context["page"]] == [none.name]


def red_card(html: str) -> str:
    """My day's card of the customers gone red (or its placeholder), from its opening tag to its end."""
    start = html.index('id="health-red"')
    return html[html.rindex("<section", 0, start) : html.index("</section>", start)]


def test_my_day_places_the_customers_gone_red_and_asks_for_them_once_shown(scored, org, client_for):
    # when Lucas opens his day
    page = client_for(org.csm_a).get("/")

    # then the card is a placeholder that asks for its customers as it comes into view, and links to them
    card = red_card(page.text)
    assert 'class="card lazy-panel"' in card
    assert 'hx-get="/health/red-today/"' in card
    assert 'hx-trigger="intersect once"' in card
    assert '<a href="/health/red-today/">See the list</a>' in card
    assert "Turned red today" in card
    assert "Padaria Pão Dourado" not in card


def test_the_card_of_the_customers_gone_red_for_htmx_with_the_measure_that_fell(
    scored, org, client_for, django_assert_num_queries
):
    client = client_for(org.csm_a)
    with django_assert_num_queries(3):  # the session, the person, the customers gone red
        card = client.get("/health/red-today/", HTTP_HX_REQUEST="true")
    assert card.status_code == 200
    assert "<html" not in card.text
    assert 'id="health-red"' in card.text
    assert "lazy-panel" not in card.text
    assert "Padaria Pão Dourado" in card.text
    assert "Usage −40" in card.text
    assert f'href="/customers/{scored.pk}/#health"' in card.text
    # another team's CSM: nothing of theirs went red, nothing to swap in (the placeholder goes)
    other = client_for(org.csm_b).get("/health/red-today/", HTTP_HX_REQUEST="true")
    assert (other.status_code, other.text) == (200, "")


def test_the_customers_gone_red_without_javascript_a_page_of_their_own(scored, org, client_for):
    page = client_for(org.csm_a).get("/health/red-today/")
    assert "<html" in page.text
    assert "Padaria Pão Dourado" in red_card(page.text)
    assert "Usage −40" in page.text
    assert 'href="/">Back to My day</a>' in page.text
    # another team's CSM: the page says none went red
    other = client_for(org.csm_b).get("/health/red-today/")
    assert 'id="health-red"' not in other.text
    assert "None of your customers turned red today." in other.text


def test_the_card_of_the_customers_gone_red_speaks_portuguese(scored, org, client_for):
    User.objects.filter(pk__in=[org.csm_a.pk, org.csm_b.pk]).update(language="pt-br")
    assert "Ficaram vermelhos hoje" in red_card(client_for(org.csm_a).get("/").text)
    assert "Ver a lista" in red_card(client_for(org.csm_a).get("/").text)
    assert "Voltar ao Meu dia" in client_for(org.csm_a).get("/health/red-today/").text
    assert "Nenhum cliente seu ficou vermelho hoje." in client_for(org.csm_b).get("/health/red-today/").text


def test_the_panel_speaks_portuguese(scored, org, client_for):
    User.objects.filter(pk=org.csm_a.pk).update(language="pt-br")
    page = client_for(org.csm_a).get(f"/customers/{scored.pk}/")
    assert "Por que mudou" in page.text
    assert (
        "Uso −40: 10 usuários ativos por dia de 20 licenças → 10 usuários ativos por dia de 200 licenças" in page.text
    )


def test_the_trend_marks_a_new_profile_version_and_the_panel_names_what_was_left_out(scored, org, client_for):
    # given a new profile version that also scores surveys (the customer has answered none)
    version(
        "high", "ongoing", {"adoption": rule(60, 10, 70), "engagement": rule(40, 4, 22), "survey": rule(20, 30, 90)}
    )
    services.scores_recompute(TODAY + timedelta(days=1))

    with clock.at(clock.now() + timedelta(days=1)):
        page = client_for(org.csm_a).get(f"/customers/{scored.pk}/")

    assert page.text.count('class="version-mark"') == 1
    assert "profile version 3 from" in page.text
    assert "Left out" in page.text
    assert "Surveys (no data)" in page.text
