"""The survey Settings API: the defaults new campaigns start from and the CHI criteria, read by admins and
leaders, changed by admins through the Settings page's services, each change in the history as the page records
it; a refused change is a 400 with field errors in the requester's language."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from accounts.models import SettingChange
from surveys.models import ChiCriterion
from surveys.settings_selectors import survey_defaults
from surveys.settings_services import chi_criterion_save, survey_defaults_update
from tests.settings_area.test_api_journey import EN, last_change, recorded

pytestmark = pytest.mark.django_db

API = "/api/v1/settings"
DEFAULTS = f"{API}/survey-defaults/"


# --- Survey defaults -----------------------------------------------------------------------------------------------


def test_a_leader_reads_the_defaults_and_cannot_change_them(org, api_for):
    api = api_for(org.leader_a)

    read = api.get(DEFAULTS)
    refused = api.patch(DEFAULTS, {"fatigue_days": 120}, format="json")

    assert read.status_code == 200
    assert read.json() == {"fatigue_days": 90, "reminder_after_days": 4, "expires_after_days": 30}
    assert refused.status_code == 403
    assert survey_defaults().fatigue_days == 90
    assert api_for(org.csm_a).get(DEFAULTS).status_code == 403


@override_settings(LEME_SURVEY_FATIGUE_DAYS=90)
def test_an_admin_changes_the_defaults_and_the_history_records_it_as_the_page_does(org, api_for, client_for):
    # given a change made on the page, then undone
    page = {"fatigue_days": "120", "reminder_after_days": "5", "expires_after_days": "21"}
    assert client_for(org.admin).post(reverse("survey_settings:defaults"), page).status_code == 302
    on_the_page = recorded(last_change())
    survey_defaults_update(fatigue_days=90, reminder_after_days=4, expires_after_days=30, actor=org.admin)

    # when the API makes the same change
    body = {"fatigue_days": 120, "reminder_after_days": 5, "expires_after_days": 21}
    answer = api_for(org.admin).put(DEFAULTS, body, format="json")

    # then it is saved, with the page's history line
    assert answer.status_code == 200
    assert answer.json() == body
    assert recorded(last_change()) == on_the_page


def test_defaults_the_service_refuses_are_a_400_in_the_requesters_language(org, api_for):
    api = api_for(org.admin)
    before = SettingChange.objects.count()

    english = api.patch(DEFAULTS, {"reminder_after_days": 40}, format="json", **EN)
    portuguese = api.patch(DEFAULTS, {"reminder_after_days": 40}, format="json")
    wrong_type = api.patch(DEFAULTS, {"expires_after_days": "soon"}, format="json", **EN)

    assert english.status_code == 400
    assert english.json() == {
        "reminder_after_days": [
            "The reminder must go out before the link expires: fewer than 30 days (0: no reminder)."
        ]
    }
    with translation.override("pt-br"):
        expected = translation.gettext(
            "The reminder must go out before the link expires: fewer than %(days)s days (0: no reminder)."
        ) % {"days": 30}
    assert portuguese.json() == {"reminder_after_days": [expected]}
    assert list(wrong_type.json()) == ["expires_after_days"]
    assert SettingChange.objects.count() == before


# --- CHI criteria ------------------------------------------------------------------------------------------------


def criterion(position: int = 1) -> ChiCriterion:
    return chi_criterion_save(
        position=position, text_pt="Usa os relatórios", text_en="Uses the reports", answered_by="csm", actor=None
    )


def test_an_admin_adds_a_criterion_at_a_free_position_and_rewords_it(org, api_for):
    api = api_for(org.admin)
    body = {"position": 2, "text_pt": "Indicou um cliente", "text_en": "Referred a customer", "answered_by": "csm"}

    added = api.post(f"{API}/chi-criteria/", body, format="json")
    reworded = api.patch(f"{API}/chi-criteria/{added.json()['id']}/", {"answered_by": "customer"}, format="json")

    assert added.status_code == 201
    assert reworded.json() == {**body, "id": added.json()["id"], "answered_by": "customer"}
    assert last_change().area == "chi"
    assert last_change().subject == "CHI 2"
    assert last_change().changes == [
        {"field": "Answered by", "before": "The CSM", "after": "The customer", "effect": ""}
    ]


def test_a_criterion_added_through_the_api_is_recorded_as_on_the_page(org, api_for, client_for):
    page = {
        "prefix": "new",
        "new-position": "3",
        "new-text_pt": "Indicou um cliente",
        "new-text_en": "Referred a customer",
        "new-answered_by": "csm",
    }
    assert client_for(org.admin).post(reverse("survey_settings:chi"), page).status_code == 302
    on_the_page = recorded(last_change())
    ChiCriterion.objects.filter(position=3).delete()

    body = {"position": 3, "text_pt": "Indicou um cliente", "text_en": "Referred a customer", "answered_by": "csm"}
    answer = api_for(org.admin).post(f"{API}/chi-criteria/", body, format="json")

    assert answer.status_code == 201
    assert recorded(last_change()) == on_the_page


def test_adding_at_a_taken_position_is_refused_rewording_nothing(org, api_for):
    taken = criterion(1)
    body = {"position": 1, "text_pt": "Outro", "text_en": "Another", "answered_by": "customer"}

    answer = api_for(org.admin).post(f"{API}/chi-criteria/", body, format="json", **EN)

    assert answer.status_code == 400
    assert answer.json() == {"position": ["This position already has a criterion: reword it instead."]}
    assert ChiCriterion.objects.get(pk=taken.pk).text_en == "Uses the reports"


def test_a_criterion_without_its_portuguese_or_out_of_range_is_a_field_error(org, api_for):
    api = api_for(org.admin)
    body = {"position": 11, "text_pt": "Indicou", "text_en": "Referred", "answered_by": "csm"}

    out_of_range = api.post(f"{API}/chi-criteria/", body, format="json", **EN)
    blank = api.patch(f"{API}/chi-criteria/{criterion().pk}/", {"text_pt": " "}, format="json", **EN)

    assert out_of_range.json() == {"position": ["Between 1 and 10."]}
    assert list(blank.json()) == ["text_pt"]


def test_leaders_read_criteria_others_are_refused(org, api_for):
    row = criterion()

    listed = api_for(org.leader_a).get(f"{API}/chi-criteria/")

    assert [r["id"] for r in listed.json()] == [row.pk]
    assert (
        api_for(org.leader_a).patch(f"{API}/chi-criteria/{row.pk}/", {"text_en": "X"}, format="json").status_code == 403
    )
    assert api_for(org.csm_a).get(f"{API}/chi-criteria/{row.pk}/").status_code == 403
    assert ChiCriterion.objects.get(pk=row.pk).text_en == "Uses the reports"
