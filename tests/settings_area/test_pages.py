"""The Settings pages: the door (admins change, leaders read, others are refused), forms that answer 422 with
their errors, the history shown, and the navigation entry."""

import pytest
from django.urls import reverse

from accounts.models import SettingChange
from portfolio import settings_services
from portfolio.models import ChurnCategory, ChurnReason, ServiceModelPolicy
from portfolio.taxonomy import INVOLUNTARY_REASON
from surveys.settings_selectors import survey_defaults
from tests.portfolio.factories import CustomerFactory, hand_off
from tests.settings_area.test_services import open_and_recover

POLICIES = reverse("journey_settings:policies")
REASONS = reverse("journey_settings:churn_reasons")
SURVEYS = reverse("survey_settings:defaults")
HTMX = {"HTTP_HX_REQUEST": "true"}


def policy_post(**changes) -> dict:
    data = {
        "service_model": "high",
        "high-first_value_days": "10",
        "high-first_success_days": "45",
        "high-review_every_months": "3",
        "high-handoff_by_meeting": "on",
        "high-uti_days": "30",
    }
    return {**data, **{f"high-{k}": v for k, v in changes.items()}}


def test_the_navigation_offers_settings_to_admins_and_leaders_only(org, client_for):
    settings_url = reverse("accounts:settings")
    for person, shown in ((org.admin, True), (org.leader_a, True), (org.csm_a, False), (org.viewer_all, False)):
        page = client_for(person).get(reverse("home")).content.decode()
        assert (f'href="{settings_url}"' in page) is shown, person


def test_the_overview_links_every_settings_page_and_the_integrations_for_admins(org, client_for):
    page = client_for(org.admin).get(reverse("accounts:settings")).content.decode()
    for name in ("journey_settings:policies", "journey_settings:churn_reasons", "survey_settings:defaults"):
        assert reverse(name) in page
    assert reverse("accounts:integrations") in page
    assert reverse("people_settings:people") in page
    for_leader = client_for(org.leader_a).get(reverse("accounts:settings")).content.decode()
    assert reverse("accounts:integrations") not in for_leader


def test_a_leader_reads_the_policies_but_changes_nothing(org, client_for):
    client = client_for(org.leader_a)
    page = client.get(POLICIES)
    assert page.status_code == 200
    html = page.content.decode()
    assert "disabled" in html
    assert 'type="submit"' not in html.split("<main", 1)[1].split("settings-history", 1)[0]
    assert client.post(POLICIES, policy_post(uti_days="60")).status_code == 403
    assert ServiceModelPolicy.objects.get(service_model="high").uti_days == 30


@pytest.mark.parametrize("who", ["csm_a", "ism_a", "viewer_a"])
def test_the_others_are_refused_every_settings_page(org, client_for, who):
    client = client_for(getattr(org, who))
    for url in (reverse("accounts:settings"), POLICIES, REASONS, SURVEYS):
        assert client.get(url).status_code == 403, url
    reason = ChurnReason.objects.get(code="seasonal")
    assert client.post(reverse("journey_settings:churn_reason_retire"), {"reason": reason.pk}).status_code == 403


def test_an_admin_changes_a_policy_with_htmx_and_sees_it_in_the_history(org, client_for):
    answer = client_for(org.admin).post(POLICIES, policy_post(uti_days="45"), **HTMX)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'id="policy-high"' in html
    assert 'value="45"' in html
    assert 'hx-swap-oob="true"' in html
    assert "Renata Azevedo" in html
    assert ServiceModelPolicy.objects.get(service_model="high").uti_days == 45
    assert SettingChange.objects.get().actor == org.admin


def test_a_bad_policy_answers_422_with_the_card_and_its_errors(org, client_for):
    answer = client_for(org.admin).post(POLICIES, policy_post(first_value_days="30", first_success_days="20"), **HTMX)
    assert answer.status_code == 422
    html = answer.content.decode()
    assert 'id="policy-high"' in html
    assert "errorlist" in html
    assert 'value="20"' in html
    assert ServiceModelPolicy.objects.get(service_model="high").first_success_days == 45
    assert not SettingChange.objects.exists()


def test_without_javascript_a_policy_saved_goes_back_to_the_page(org, client_for):
    answer = client_for(org.admin).post(POLICIES, policy_post(review_every_months=""))
    assert answer.status_code == 302
    assert answer["Location"] == POLICIES
    assert ServiceModelPolicy.objects.get(service_model="high").review_every_months is None
    bad = client_for(org.admin).post(POLICIES, policy_post(uti_days="2"))
    assert bad.status_code == 422
    assert "errorlist" in bad.content.decode()


def test_retiring_a_reason_in_use_keeps_it_listed_and_deleting_it_answers_422(org, client_for):
    reason = ChurnReason.objects.get(code="budget-cut")
    customer = CustomerFactory(owner=org.csm_a)
    hand_off(customer, org.csm_a)
    open_and_recover(customer, org.csm_a, reason)
    client = client_for(org.admin)
    refused = client.post(reverse("journey_settings:churn_reason_delete"), {"reason": reason.pk})
    assert refused.status_code == 422
    assert "Retire it instead" in refused.content.decode() or "Desative-o" in refused.content.decode()
    retired = client.post(reverse("journey_settings:churn_reason_retire"), {"reason": reason.pk}, follow=True)
    assert retired.status_code == 200
    row = retired.content.decode().split(f'id="reason-{reason.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="badge"' in row
    reason.refresh_from_db()
    assert not reason.active


def test_a_new_reason_without_its_names_answers_422(org, client_for):
    answer = client_for(org.admin).post(REASONS, {"category": "", "name_pt": "", "name_en": ""})
    assert answer.status_code == 422
    assert answer.content.decode().count("errorlist") >= 3


def test_the_taxonomy_page_reads_in_a_fixed_number_of_queries(org, client_for, django_assert_max_num_queries):
    client = client_for(org.admin)
    with django_assert_max_num_queries(12):
        client.get(REASONS)
    category = ChurnReason.objects.get(code="seasonal").category
    for n in range(5):
        settings_services.churn_reason_create(
            category=category, name_pt=f"Motivo {n}", name_en=f"Reason {n}", actor=org.admin
        )
    with django_assert_max_num_queries(12):
        client.get(REASONS)


def test_survey_defaults_bad_input_answers_422_and_good_input_is_saved(org, client_for):
    client = client_for(org.admin)
    bad = client.post(SURVEYS, {"fatigue_days": "90", "reminder_after_days": "40", "expires_after_days": "30"})
    assert bad.status_code == 422
    assert "errorlist" in bad.content.decode()
    good = client.post(SURVEYS, {"fatigue_days": "120", "reminder_after_days": "5", "expires_after_days": "21"})
    assert good.status_code == 302
    assert survey_defaults().expires_after_days == 21
    form = client.get(reverse("surveys:campaign_create")).content.decode()
    assert 'name="expires_after_days" value="21"' in form


def test_the_pages_speak_portuguese_by_default(org, client_for):
    html = client_for(org.admin).get(POLICIES).content.decode()
    assert "Políticas da jornada" in html
    assert "Aplica-se aos clientes que entrarem em implantação a partir de agora" in html


def test_chi_criteria_page_adds_one_and_answers_422_without_its_english(org, client_for):
    client = client_for(org.admin)
    url = reverse("survey_settings:chi")
    refused = client.post(
        url, {"prefix": "new", "new-position": "1", "new-text_pt": "Indicou um cliente", "new-answered_by": "csm"}
    )
    assert refused.status_code == 422
    assert 'id="id_new-text_en_error"' in refused.content.decode()
    added = client.post(
        url,
        {
            "prefix": "new",
            "new-position": "1",
            "new-text_pt": "Indicou um cliente",
            "new-text_en": "Referred a customer",
            "new-answered_by": "csm",
        },
    )
    assert added.status_code == 302
    page = client_for(org.leader_a).get(url).content.decode()
    assert "Indicou um cliente" in page
    assert "Renata Azevedo" in page
    assert 'id="chi-new"' not in page


def test_an_english_reader_reads_the_history_in_english(org, client_for):
    # given a change recorded by an admin who reads Leme in Portuguese
    settings_services.churn_reason_retire(reason=ChurnReason.objects.get(code="seasonal"), actor=org.admin)
    org.leader_a.language = "en"
    org.leader_a.save(update_fields=["language"])
    # when a leader who reads English opens the page, then the page and the history speak English
    html = client_for(org.leader_a).get(REASONS).content.decode()
    assert "Churn reasons" in html
    assert "Offered in new churn requests" in html
    assert "New churn requests no longer offer it" in html
    assert "Seasonal use: pausing until next season" in html
    portuguese = client_for(org.admin).get(REASONS).content.decode()
    assert "Oferecido em novos pedidos de churn" in portuguese


def test_an_admin_retires_and_restores_a_category_on_the_page_and_a_leader_cannot(org, client_for):
    # given a category, and the one that holds the reason Leme opens involuntary requests with
    category = ChurnReason.objects.get(code="budget-cut").category
    kept = ChurnReason.objects.get(code=INVOLUNTARY_REASON).category
    retire, restore = (
        reverse("journey_settings:churn_category_retire"),
        reverse("journey_settings:churn_category_restore"),
    )
    admin = client_for(org.admin)

    # when a leader tries, then the admin retires it
    refused = client_for(org.leader_a).post(retire, {"category": category.pk})
    retired = admin.post(retire, {"category": category.pk}, follow=True)

    # then only the admin's counts: the page marks it retired and offers it again, never for the kept one
    assert refused.status_code == 403
    html = retired.content.decode()
    assert f'name="category" value="{category.pk}"' in html
    assert f'name="category" value="{kept.pk}"' not in html
    assert 'class="card taxonomy-category retired"' in html
    assert not ChurnCategory.objects.get(pk=category.pk).active
    assert SettingChange.objects.filter(area="churn_reasons").count() == 1
    assert admin.post(restore, {"category": category.pk}).status_code == 302
    assert ChurnCategory.objects.get(pk=category.pk).active
    assert admin.post(retire, {"category": kept.pk}).status_code == 422
