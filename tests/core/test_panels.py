"""Apps above portfolio add panels to My day through core.panels, and a panel with nothing to show is left out."""

import pytest
from django.urls import reverse

from core import panels
from portfolio import selectors
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_panels():
    """Two panels registered for the test only: one that counts the person's customers, one with nothing."""

    def count_mine(user, today):
        return {"count": CustomerFactory._meta.model.objects.filter(owner=user).count(), "on": today}

    saved = dict(panels._day_panels)
    panels._day_panels.clear()  # the apps' own panels (health, metrics) have their own tests
    panels.register_day(panels.DayPanel(key="mine", template="core/test_day_panel.html", load=count_mine))
    panels.register_day(panels.DayPanel(key="nothing", template="core/test_day_panel.html", load=lambda u, t: None))
    yield
    panels._day_panels.clear()
    panels._day_panels.update(saved)


def test_my_day_loads_each_registered_panel_for_the_person_and_leaves_out_the_empty_ones(org, day_panels):
    CustomerFactory(owner=org.csm_a)
    CustomerFactory(owner=org.csm_a)
    CustomerFactory(owner=org.csm_b)

    day = selectors.my_day(org.csm_a)

    assert [(p.key, p.data["count"]) for p in day["panels"]] == [("mine", 2)]
    assert day["panels"][0].data["on"] == day["today"]


def test_the_page_renders_the_panel(client, org, day_panels):
    CustomerFactory(owner=org.csm_b)
    client.force_login(org.csm_b)

    page = client.get(reverse("home"))

    assert page.status_code == 200
    assert 'id="day-panel-test"' in page.content.decode()
    assert "customers: 1" in page.content.decode()


def test_a_panel_asked_for_after_the_page_is_placed_by_the_page_and_loaded_for_the_digest(client, org, day_panels):
    calls = []

    def load(user, today):
        calls.append(user)
        return {"count": 1, "on": today}

    panels.register_day(
        panels.DayPanel(key="later", template="core/test_day_panel.html", load=load, url_name="home", title="Later")
    )
    client.force_login(org.csm_b)

    # the page: a placeholder asking for it from its view once in view, with a link to it; not loaded
    page = client.get(reverse("home")).content.decode()
    assert calls == []
    assert '<section class="card lazy-panel" id="later"' in page
    assert 'hx-get="/" hx-trigger="intersect once"' in page
    assert '<a href="/">Ver a lista</a>' in page  # pt-BR, the default

    # what the morning digest reads: loaded, as before
    day = selectors.my_day(org.csm_b)
    assert calls == [org.csm_b]
    assert [p.key for p in day["panels"]] == ["later", "mine"]  # by order, then key
    assert day["panels"][0].data == {"count": 1, "on": day["today"]}
