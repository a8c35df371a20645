"""Leme's Portuguese: counted days read "hoje", "1 dia", "3 dias"; months in lower case inside a sentence; no
nested brackets, no "S.A..", no handoff "from Lucas to Lucas"; and every model named in the admin in pt-BR."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from core.text import end_sentence
from portfolio import services as portfolio_services
from portfolio.models import ChurnKind, ChurnReason, Customer
from portfolio.templatetags.leme import days_ago, days_since, in_days
from surveys import messages
from tests.factories import UserFactory
from tests.portfolio.factories import ContactFactory, CustomerFactory, hand_off
from tests.surveys.factories import CampaignFactory, DeliveryFactory

pytestmark = pytest.mark.django_db

LEME_APPS = ("accounts", "portfolio", "surveys")
SAME_IN_PORTUGUESE = {"tags"}


def in_portuguese(function, *args):
    with translation.override("pt-br"):
        return function(*args)


# --- Days ------------------------------------------------------------------------------------------------


def test_days_read_today_then_singular_then_plural():
    assert [in_portuguese(days_ago, n) for n in (0, 1, 3)] == ["hoje", "há 1 dia", "há 3 dias"]
    assert [in_portuguese(in_days, n) for n in (0, 1, 3)] == ["hoje", "em 1 dia", "em 3 dias"]


def test_a_customer_touched_today_was_touched_today_on_the_list_and_its_page(org, client_for):
    customer = CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado")
    Customer.objects.filter(pk=customer.pk).update(last_touch_at=timezone.now())
    client = client_for(org.csm_a)

    for page in (client.get("/portfolio/"), client.get(f"/customers/{customer.pk}/")):
        assert page.status_code == 200
        assert "há 0 dia" not in page.text
        assert "hoje" in page.text


def test_a_one_day_invitation_link_works_for_one_dia():
    invitation = SimpleNamespace(
        full_name="Ana", invited_by=SimpleNamespace(full_name="Mariana Costa"), get_role_display=lambda: "CSM"
    )
    context = {"invitation": invitation, "url": "https://leme.example/i/x", "days": 1}
    with translation.override("pt-br"):
        text = render_to_string("accounts/email/invitation.txt", context)
        html = render_to_string("accounts/email/invitation.html", context)
    assert "O link vale por 1 dia." in text
    assert "O link vale por 1 dia." in html


# --- Months ----------------------------------------------------------------------------------------------


def test_months_are_lower_case_inside_a_sentence(org, client_for):
    assert in_portuguese(formats.date_format, date(2026, 12, 2), "DATE_FORMAT") == "2 de dezembro de 2026"
    assert in_portuguese(formats.date_format, date(2026, 3, 15), "DATE_FORMAT") == "15 de março de 2026"
    page = client_for(org.csm_a).get("/")
    today = in_portuguese(formats.date_format, timezone.localdate(), "DATE_FORMAT")
    assert today in page.text
    assert today.split(" de ")[1].islower()


# --- Brackets, names that end in a dot, the handoff to oneself ----------------------------------------------


def test_an_open_churn_request_names_its_kind_without_nested_brackets(org, client_for):
    customer = CustomerFactory(owner=org.csm_a)
    portfolio_services.churn_request_open(
        customer=customer,
        kind=ChurnKind.VOLUNTARY,
        reason=ChurnReason.objects.get(code="missing-integration"),
        detail="Precisa de integração com o SAP B1; o novo CFO cortou as ferramentas que não conversam com ele",
        actor=org.csm_a,
    )
    page = client_for(org.csm_a).get(f"/customers/{customer.pk}/")
    assert "(Voluntário: o cliente pediu)" in page.text
    assert "(Voluntário (o cliente pediu))" not in page.text


def test_a_name_ending_in_a_dot_ends_the_sentence_once(org):
    assert end_sentence("Critérios do CSM salvos para Atlas S.A..") == "Critérios do CSM salvos para Atlas S.A."
    assert end_sentence("Aguarde...") == "Aguarde..."
    assert end_sentence("Cliente Ltda.") == "Cliente Ltda."
    campaign = CampaignFactory(kind="nps")
    contact = ContactFactory(customer=CustomerFactory(name="Atlas S.A.", owner=org.csm_a), language="pt-br")
    emails = messages.SurveyEmails(campaign)

    message = emails.message(DeliveryFactory(campaign=campaign, contact=contact))

    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "S.A.." not in part
        assert "contato de Atlas S.A." in part
    assert emails.raw(DeliveryFactory(campaign=campaign, contact=ContactFactory(customer=contact.customer))) is None


def test_a_handoff_to_the_same_csm_says_the_csm_stays(org, client_for):
    customer = CustomerFactory(owner=org.csm_a, implementation_manager=org.csm_a)
    hand_off(customer, org.csm_a, actor=org.csm_a)
    page = client_for(org.csm_a).get(f"/customers/{customer.pk}/")
    assert "Lucas Almeida segue como CSM" in page.text
    assert "de Lucas Almeida para Lucas Almeida" not in page.text


# --- The admin -------------------------------------------------------------------------------------------


def test_every_model_has_a_name_of_its_own_translated_to_portuguese():
    for model in (m for app in LEME_APPS for m in apps.get_app_config(app).get_models()):
        options = model._meta.original_attrs
        assert "verbose_name" in options, model.__name__
        assert "verbose_name_plural" in options, model.__name__
        with translation.override("en"):
            english = str(model._meta.verbose_name_plural)
        with translation.override("pt-br"):
            portuguese = str(model._meta.verbose_name_plural)
        assert portuguese != english or english in SAME_IN_PORTUGUESE, model.__name__


def test_the_admin_names_models_in_portuguese(client):
    client.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True, language="pt-br"))

    index = client.get("/admin/")
    movements = client.get("/admin/portfolio/mrrmovement/")
    criteria = client.get("/admin/surveys/chicriterion/")

    assert "Movimentos de MRR" in index.text
    assert "Critérios do CHI" in index.text
    assert "Mrr movements" not in index.text
    assert "Chi criterions" not in index.text
    assert "Selecione movimento de MRR para visualizar" in movements.text  # read-only in the admin
    assert "Selecione critério do CHI para modificar" in criteria.text


def test_the_recovery_detail_counts_one_dia(org):
    with translation.override("pt-br"):
        text = translation.ngettext(
            "%(sub)s unpaid since %(since)s (%(days)s day); opened automatically.",
            "%(sub)s unpaid since %(since)s (%(days)s days); opened automatically.",
            1,
        ) % {"sub": "Pro", "since": "01/12/2026", "days": 1}
    assert "(1 dia)" in text


def test_yesterday_is_one_day_ago():
    yesterday = timezone.localdate() - timedelta(days=1)
    assert in_portuguese(days_ago, days_since(yesterday)) == "há 1 dia"


def test_the_results_trend_names_months_as_a_sentence_does(org, client_for):
    from tests.surveys.test_results import answered, make_campaign

    campaign = make_campaign(actor=org.admin)
    answered(campaign, CustomerFactory(owner=org.csm_a), 9)
    page = client_for(org.leader_a).get(f"/surveys/{campaign.pk}/")
    month = in_portuguese(formats.date_format, timezone.localdate(), "YEAR_MONTH_FORMAT")  # "dezembro de 2026"
    assert f"<td>{month}</td>" in page.text
