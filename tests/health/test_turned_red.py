"""My day's "turned red today": which red scores of the day are listed, in which order, in one query."""

from datetime import timedelta

from core import clock
from health.selectors import turned_red
from tests.health.leader_factories import override, score
from tests.portfolio.factories import CustomerFactory

TODAY = clock.today()
YESTERDAY = TODAY - timedelta(days=1)


def _history(owner, name: str, yesterday: int | str | None, today: int | None):
    """A customer of ``owner`` with yesterday's score (``"none"``: no row yesterday) and today's."""
    customer = CustomerFactory(owner=owner, name=name)
    if yesterday != "none":
        score(customer, YESTERDAY, yesterday)
    if today is not None:
        score(customer, TODAY, today)
    return customer


def test_only_the_red_scores_that_were_yellow_or_green_yesterday_worst_first_then_by_name(
    org, django_assert_num_queries
):
    _history(org.csm_a, "Bravo Transportes", 80, 30)  # green → red
    _history(org.csm_a, "Alfa Logística", 60, 30)  # yellow → red, same score: by name
    _history(org.csm_a, "Zulu Mercados", 90, 10)  # the worst first
    _history(org.csm_a, "Delta Padaria", 40, 20)  # red both days
    _history(org.csm_a, "Eco Farmácia", None, 25)  # no data yesterday
    _history(org.csm_a, "Foxtrot Óptica", "none", 15)  # not scored yesterday
    _history(org.csm_a, "Golf Academia", 70, 80)  # yellow → green
    overridden = _history(org.csm_a, "Hotel Central", 80, 5)
    kept = override(overridden, band="yellow", reason="Renovação em negociação", by=org.csm_a, ends_on=TODAY)
    overridden.health_scores.filter(day=TODAY).update(override=kept)
    _history(org.csm_b, "India Sorvetes", 80, 12)  # another team's

    with django_assert_num_queries(1):
        found = turned_red(org.csm_a, TODAY)

    assert [(row.name, row.score, row.from_band) for row in found] == [
        ("Zulu Mercados", 10, "green"),
        ("Alfa Logística", 30, "yellow"),
        ("Bravo Transportes", 30, "green"),
    ]
    assert [row.name for row in turned_red(org.leader_a, TODAY)] == [
        "Zulu Mercados",
        "Alfa Logística",
        "Bravo Transportes",
    ]
    assert [row.name for row in turned_red(org.csm_b, TODAY)] == ["India Sorvetes"]
    assert turned_red(org.csm_a, TODAY + timedelta(days=1)) is None


def test_the_first_fifty_of_many(org):
    for n in range(55):
        _history(org.csm_a, f"Cliente {n:02}", 80, 40 - n % 3)

    found = turned_red(org.csm_a, TODAY)

    every = sorted((40 - n % 3, f"Cliente {n:02}") for n in range(55))
    assert [(row.score, row.name) for row in found] == every[:50]
