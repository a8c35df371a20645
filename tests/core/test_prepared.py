"""Prepared queries: the SQL built once, the rows turned into the same model instances the queryset makes, and the
rows an insert writes the same as Django's."""

from unittest import mock

import pytest
from django.db.models.signals import post_save
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler
from django.forms.models import model_to_dict
from django.utils import timezone

from core.prepared import Prepared, PreparedInsert
from portfolio.models import Activity, Customer
from surveys.models import Delivery, Response
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery

pytestmark = pytest.mark.django_db


def deliveries(token_hash: str):
    return (
        Delivery.objects.select_related("campaign", "contact", "response")
        .only("language", "expires_at", "campaign__kind", "campaign__question_en", "contact__name", "response__score")
        .filter(token_hash=token_hash)
    )


by_hash = Prepared(deliveries, "<placeholder>")


@pytest.fixture
def answered():
    delivery, _ = make_delivery(make_campaign("chi"), contact=ContactFactory(name="Ana Souza"), language="en")
    Response.objects.create(
        delivery=delivery, campaign=delivery.campaign, kind="chi", score=2, chi_answers={"1": 1, "2": 1, "3": 0}
    )
    return delivery


def test_a_prepared_read_makes_the_objects_the_queryset_makes(answered, django_assert_num_queries):
    expected = deliveries(answered.token_hash).get()

    with django_assert_num_queries(1):
        delivery = by_hash.get(answered.token_hash)
        # The related rows came with it, as select_related brings them.
        assert (delivery.campaign.kind, delivery.contact.name, delivery.response.score) == ("chi", "Ana Souza", 2)

    assert type(delivery) is Delivery
    assert delivery.pk == answered.pk
    assert model_to_dict(delivery) == model_to_dict(expected)
    for related in ("campaign", "contact", "response"):
        assert model_to_dict(getattr(delivery, related)) == model_to_dict(getattr(expected, related))
    assert delivery.get_deferred_fields() == expected.get_deferred_fields()
    assert delivery.expires_at == answered.expires_at
    assert delivery.expires_at.tzinfo is not None
    assert not delivery._state.adding
    assert delivery._state.db == "default"
    # A deferred field is read when asked for, as the queryset's would be; the converters ran (JSON to a dict).
    assert delivery.response.chi_answers == {"1": 1, "2": 1, "3": 0}


def test_a_missing_row_and_a_missing_relation(django_assert_num_queries):
    delivery, _ = make_delivery(make_campaign("nps"), contact=ContactFactory())

    with pytest.raises(Delivery.DoesNotExist):
        by_hash.get("no such hash")
    with django_assert_num_queries(1):
        read = by_hash.get(delivery.token_hash)
        with pytest.raises(Response.DoesNotExist):
            read.response  # noqa: B018 - the empty side of the join, known without a query


def test_the_sql_is_built_once(answered):
    by_hash.get(answered.token_hash)

    with mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("compiled again")):
        assert by_hash.get(answered.token_hash).pk == answered.pk
        assert by_hash.all("no such hash") == []


def test_every_placeholder_must_be_one_parameter_of_the_query(answered):
    unused = Prepared(lambda h, pk: Delivery.objects.filter(token_hash=h), "<hash>", -1)
    with pytest.raises(ValueError, match="placeholder"):
        unused.get(answered.token_hash, answered.pk)

    counted = Prepared(lambda values: Delivery.objects.values("pk").filter(token_hash=values), "<hash>")
    with pytest.raises(ValueError, match="plain model rows"):
        counted.get(answered.token_hash)


# --- Inserts ----------------------------------------------------------------------------------------------------

activity_insert = PreparedInsert(Activity)


def entry(customer, **changes) -> Activity:
    fields = {
        "customer": customer,
        "kind": "survey",
        "title": "NPS 3 — detrator",
        "body": "Demorou <muito>",
        "happened_at": timezone.now(),
        "data": {"score": 3, "previous_score": None, "contact": None},
    }
    return Activity(**{**fields, **changes})


def test_a_prepared_insert_writes_the_row_django_writes(django_assert_num_queries):
    customer = CustomerFactory()
    by_django = entry(customer)
    by_django.save(force_insert=True)

    prepared = entry(customer, happened_at=by_django.happened_at)
    with django_assert_num_queries(1):
        assert activity_insert.save(prepared) is prepared

    assert prepared.pk is not None
    assert prepared.pk != by_django.pk
    assert not prepared._state.adding
    assert prepared._state.db == "default"
    stored = {a.pk: model_to_dict(a, exclude=["id"]) for a in Activity.objects.filter(customer=customer)}
    assert stored[prepared.pk] == stored[by_django.pk]
    assert stored[prepared.pk]["data"] == {"score": 3, "previous_score": None, "contact": None}
    # A field's default is filled in as Django fills it (happened_at defaults to now; external_id to NULL).
    defaulted = activity_insert.save(Activity(customer=customer, kind="note", title="Sem data"))
    row = Activity.objects.get(pk=defaulted.pk)
    assert row.happened_at is not None
    assert row.external_id is None
    assert row.data == {}


def test_a_prepared_insert_builds_its_sql_once():
    customer = CustomerFactory()
    activity_insert.save(entry(customer))

    with mock.patch.object(SQLInsertCompiler, "as_sql", side_effect=AssertionError("compiled again")):
        activity_insert.save(entry(customer))
    assert Activity.objects.filter(customer=customer, kind="survey").count() == 2


def test_a_model_someone_listens_to_is_saved_by_django():
    customer = CustomerFactory()
    heard = []

    def listener(sender, instance, created, **kwargs):
        heard.append((instance.title, created))

    post_save.connect(listener, sender=Activity)
    try:
        saved = activity_insert.save(entry(customer, title="Ouvida"))
    finally:
        post_save.disconnect(listener, sender=Activity)

    assert heard == [("Ouvida", True)]
    assert Activity.objects.get(pk=saved.pk).title == "Ouvida"


def test_an_unsaved_related_row_is_refused_as_django_refuses_it():
    with pytest.raises(ValueError, match="unsaved related object"):
        activity_insert.save(entry(Customer(name="Nunca salvo")))
