"""The journey's Settings API: service-model policies, churn categories and reasons, success-review questions.
Admins and leaders read; admins change through the Settings page's services (the same rules, the same history
line as the page); others are refused; a refused change is a 400 with field errors in the requester's language."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import SettingChange
from portfolio import settings_review_services as review_settings
from portfolio import settings_services
from portfolio.forms import ChurnRequestForm
from portfolio.models import ChurnCategory, ChurnReason, ChurnRequest, ReviewTemplateQuestion, ServiceModelPolicy
from portfolio.taxonomy import INVOLUNTARY_REASON
from tests.portfolio.factories import CustomerFactory
from tests.settings_area.test_pages import policy_post
from tests.settings_area.test_services import english, open_and_recover

pytestmark = pytest.mark.django_db

API = "/api/v1/settings"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def recorded(change: SettingChange) -> tuple:
    """A history line as the Settings pages show it: what, which changes, what it affects, who."""
    return (change.area, change.subject, change.changes, change.effect, change.actor_id)


def last_change() -> SettingChange:
    return SettingChange.objects.order_by("-pk").first()


def in_portuguese(message: str) -> str:
    with translation.override("pt-br"):
        return translation.gettext(message)


def reason(code: str = "budget-cut") -> ChurnReason:
    return ChurnReason.objects.select_related("category").get(code=code)


# --- Journey policies --------------------------------------------------------------------------------------------


def test_a_leader_reads_every_service_models_policy(org, api_for):
    api = api_for(org.leader_a)

    listed = api.get(f"{API}/journey-policies/")
    high = api.get(f"{API}/journey-policies/high/")

    assert listed.status_code == 200
    assert [row["service_model"] for row in listed.json()] == ["high", "low", "tech"]
    assert high.json()["uti_days"] == ServiceModelPolicy.objects.get(service_model="high").uti_days
    assert api.get(f"{API}/journey-policies/none/").status_code == 404


def test_an_admin_changes_a_policy_and_the_history_records_it_as_the_page_does(org, api_for, client_for):
    # given a change made on the page, then undone
    assert (
        client_for(org.admin).post(reverse("journey_settings:policies"), policy_post(uti_days="45")).status_code == 302
    )
    on_the_page = recorded(last_change())
    policy = ServiceModelPolicy.objects.get(service_model="high")
    settings_services.policy_update(
        service_model="high",
        first_value_days=policy.first_value_days,
        first_success_days=policy.first_success_days,
        review_every_months=policy.review_every_months,
        handoff_by_meeting=policy.handoff_by_meeting,
        uti_days=30,
        actor=org.admin,
    )

    # when the API makes the same change (PATCH: the other values stay)
    answer = api_for(org.admin).patch(f"{API}/journey-policies/high/", {"uti_days": 45}, format="json")

    # then it is saved, with the page's very history line
    assert answer.status_code == 200
    assert answer.json()["uti_days"] == 45
    assert ServiceModelPolicy.objects.get(service_model="high").first_value_days == policy.first_value_days
    assert recorded(last_change()) == on_the_page


def test_a_policy_the_service_refuses_is_a_400_in_the_requesters_language(org, api_for):
    api = api_for(org.admin)
    before = SettingChange.objects.count()
    values = {"first_value_days": 30, "first_success_days": 20}

    english = api.patch(f"{API}/journey-policies/high/", values, format="json", **EN)
    portuguese = api.patch(f"{API}/journey-policies/high/", {"uti_days": 2}, format="json")

    assert english.status_code == 400
    assert english.json() == {
        "first_success_days": ["First success comes after first value: give it at least 30 days."]
    }
    assert portuguese.json() == {"uti_days": [in_portuguese("Between %(low)s and %(high)s.") % {"low": 7, "high": 180}]}
    assert SettingChange.objects.count() == before


def test_only_admins_change_policies_and_only_admins_and_leaders_read_them(org, api_for):
    url = f"{API}/journey-policies/high/"

    assert api_for(org.leader_a).patch(url, {"uti_days": 60}, format="json").status_code == 403
    assert api_for(org.csm_a).get(url).status_code == 403
    assert api_for(org.viewer_a).get(f"{API}/journey-policies/").status_code == 403
    assert ServiceModelPolicy.objects.get(service_model="high").uti_days != 60


# --- Churn categories ----------------------------------------------------------------------------------------------


def test_an_admin_creates_renames_and_deletes_an_empty_category_each_in_the_history(org, api_for):
    api = api_for(org.admin)

    created = api.post(f"{API}/churn-categories/", {"name_pt": "Fusões", "name_en": "Mergers"}, format="json")
    pk = created.json()["id"]
    renamed = api.patch(f"{API}/churn-categories/{pk}/", {"name_en": "Mergers and acquisitions"}, format="json")
    rename_line = last_change()
    deleted = api.delete(f"{API}/churn-categories/{pk}/")

    assert (created.status_code, created.json()["reasons_count"]) == (201, 0)
    assert renamed.json()["name_pt"] == "Fusões"
    assert renamed.json()["name_en"] == "Mergers and acquisitions"
    assert rename_line.subject == "Fusões / Mergers and acquisitions"
    assert rename_line.changes == [
        {"field": "Name in English", "before": "Mergers", "after": "Mergers and acquisitions", "effect": ""}
    ]
    assert deleted.status_code == 204
    assert not ChurnCategory.objects.filter(pk=pk).exists()
    assert last_change().subject == "Category deleted"


def test_a_category_with_reasons_is_retired_never_deleted_and_its_reasons_leave_new_requests(org, api_for):
    # given a reason in use
    api = api_for(org.admin)
    open_and_recover(CustomerFactory(owner=org.csm_a), org.csm_a, reason())
    category = reason().category

    # when the admin tries to delete its category, then retires it
    refused = api.delete(f"{API}/churn-categories/{category.pk}/", **EN)
    retired = api.post(f"{API}/churn-categories/{category.pk}/retire/")

    # then the category stays, retired, and new churn requests no longer offer its reasons
    assert refused.status_code == 400
    assert "cannot be deleted" in refused.json()["non_field_errors"][0]
    assert (retired.status_code, retired.json()["active"]) == (200, False)
    assert reason() not in ChurnRequestForm().fields["reason"].queryset
    assert ChurnRequest.objects.filter(reason=reason()).exists()
    assert last_change().changes == [
        {"field": "Offered in new churn requests", "before": "yes", "after": "no", "effect": ""}
    ]
    assert last_change().effect == english(settings_services.RETIRE_CATEGORY_EFFECT)

    # and restoring it offers them again
    restored = api.post(f"{API}/churn-categories/{category.pk}/restore/")
    assert restored.json()["active"] is True
    assert reason() in ChurnRequestForm().fields["reason"].queryset


def test_the_involuntary_reasons_category_stays_offered(org, api_for):
    category = reason(INVOLUNTARY_REASON).category

    answer = api_for(org.admin).post(f"{API}/churn-categories/{category.pk}/retire/", **EN)

    assert answer.status_code == 400
    assert "involuntary" in answer.json()["non_field_errors"][0]
    assert ChurnCategory.objects.get(pk=category.pk).active


def test_a_category_name_missing_is_a_field_error(org, api_for):
    answer = api_for(org.admin).post(f"{API}/churn-categories/", {"name_pt": " ", "name_en": "X"}, format="json", **EN)

    assert answer.status_code == 400
    assert list(answer.json()) == ["name_pt"]


def test_leaders_read_categories_and_others_are_refused(org, api_for):
    category = reason().category

    listed = api_for(org.leader_a).get(f"{API}/churn-categories/")

    assert listed.status_code == 200
    assert category.pk in [row["id"] for row in listed.json()["results"]]
    assert api_for(org.leader_a).post(f"{API}/churn-categories/{category.pk}/retire/").status_code == 403
    assert api_for(org.leader_a).post(f"{API}/churn-categories/", {}, format="json").status_code == 403
    assert api_for(org.csm_a).get(f"{API}/churn-categories/").status_code == 403
    assert ChurnCategory.objects.get(pk=category.pk).active


# --- Churn reasons -----------------------------------------------------------------------------------------------


def test_an_admin_creates_renames_retires_and_restores_a_reason(org, api_for):
    api = api_for(org.admin)
    category = reason().category
    body = {"category": category.pk, "name_pt": "Sem integração com o ERP", "name_en": "No ERP integration"}

    created = api.post(f"{API}/churn-reasons/", body, format="json")
    pk = created.json()["id"]
    renamed = api.patch(f"{API}/churn-reasons/{pk}/", {"name_pt": "Sem integração com o SAP"}, format="json")
    rename_line = last_change()
    retired = api.post(f"{API}/churn-reasons/{pk}/retire/")
    restored = api.post(f"{API}/churn-reasons/{pk}/restore/")

    assert (created.status_code, created.json()["in_use"]) == (201, 0)
    assert renamed.json()["name_pt"] == "Sem integração com o SAP"
    assert rename_line.changes == [
        {
            "field": "Reason in Portuguese",
            "before": "Sem integração com o ERP",
            "after": "Sem integração com o SAP",
            "effect": english(settings_services.RENAME_EFFECT),
        }
    ]
    assert retired.json()["active"] is False
    assert restored.json()["active"] is True
    assert [c.area for c in SettingChange.objects.order_by("-pk")[:4]] == ["churn_reasons"] * 4


def test_a_reason_retired_through_the_api_is_recorded_as_on_the_page(org, api_for, client_for):
    target = reason()
    client_for(org.admin).post(reverse("journey_settings:churn_reason_retire"), {"reason": target.pk})
    on_the_page = recorded(last_change())
    settings_services.churn_reason_restore(reason=target, actor=org.admin)

    answer = api_for(org.admin).post(f"{API}/churn-reasons/{target.pk}/retire/")

    assert answer.status_code == 200
    assert recorded(last_change()) == on_the_page


def test_a_reason_in_use_is_retired_never_deleted_one_never_used_is_deleted(org, api_for):
    api = api_for(org.admin)
    used = reason()
    open_and_recover(CustomerFactory(owner=org.csm_a), org.csm_a, used)
    unused = settings_services.churn_reason_create(
        category=used.category, name_pt="Digitado errado", name_en="Typo", actor=org.admin
    )

    refused = api.delete(f"{API}/churn-reasons/{used.pk}/", **EN)
    deleted = api.delete(f"{API}/churn-reasons/{unused.pk}/")

    assert refused.status_code == 400
    assert refused.json()["non_field_errors"][0].startswith(f"“{used.name_pt}” is on 1 churn request(s)")
    assert api.get(f"{API}/churn-reasons/{used.pk}/").json()["in_use"] == 1
    assert deleted.status_code == 204
    assert not ChurnReason.objects.filter(pk=unused.pk).exists()
    assert last_change().subject == "Reason deleted"


def test_a_duplicate_reason_is_a_field_error_in_the_requesters_language(org, api_for):
    used = reason()
    body = {"category": used.category.pk, "name_pt": used.name_pt.upper(), "name_en": "Again"}

    answer = api_for(org.admin).post(f"{API}/churn-reasons/", body, format="json")

    assert answer.status_code == 400
    assert answer.json() == {"name_pt": [in_portuguese("This category already has a reason with this name.")]}


def test_reasons_filter_by_category_and_refuse_leaders_writes(org, api_for):
    used = reason()
    api = api_for(org.leader_a)

    listed = api.get(f"{API}/churn-reasons/", {"category": used.category.pk})

    assert listed.status_code == 200
    assert {row["category"] for row in listed.json()["results"]} == {used.category.pk}
    assert api.post(f"{API}/churn-reasons/{used.pk}/retire/").status_code == 403
    assert api.delete(f"{API}/churn-reasons/{used.pk}/").status_code == 403
    assert api_for(org.ism_a).get(f"{API}/churn-reasons/").status_code == 403
    assert ChurnReason.objects.get(pk=used.pk).active


def test_the_reasons_list_takes_the_same_queries_as_it_grows(org, api_for):
    api = api_for(org.leader_a)
    api.get(f"{API}/churn-reasons/")  # the token's first use is noted once
    with CaptureQueriesContext(connection) as few:
        api.get(f"{API}/churn-reasons/")
    for n in range(5):
        settings_services.churn_reason_create(
            category=reason().category, name_pt=f"Motivo {n}", name_en=f"Reason {n}", actor=org.admin
        )

    with CaptureQueriesContext(connection) as more:
        api.get(f"{API}/churn-reasons/")

    assert len(more) == len(few) <= 5


# --- Success-review questions --------------------------------------------------------------------------------------


def question(key: str) -> ReviewTemplateQuestion:
    return ReviewTemplateQuestion.objects.get(key=key)


def test_an_admin_adds_edits_moves_retires_and_restores_a_question(org, api_for):
    api = api_for(org.admin)
    body = {"part": "past", "text_pt": "Qual NPS queremos?", "text_en": "Which NPS do we want?"}

    created = api.post(f"{API}/review-questions/", body, format="json")
    pk = created.json()["id"]
    edited = api.patch(f"{API}/review-questions/{pk}/", {"text_en": "What NPS do we aim for?"}, format="json")
    moved = api.post(f"{API}/review-questions/{pk}/move/", {"direction": "up"}, format="json")
    move_line = last_change()
    retired = api.post(f"{API}/review-questions/{pk}/retire/")
    restored = api.post(f"{API}/review-questions/{pk}/restore/")

    assert created.status_code == 201
    assert edited.json()["text_en"] == "What NPS do we aim for?"
    assert moved.json()["position"] == created.json()["position"] - 1
    assert move_line.changes[0]["field"] == "Position"
    assert (retired.json()["active"], restored.json()["active"]) == (False, True)
    assert [c.area for c in SettingChange.objects.order_by("-pk")[:5]] == ["reviews"] * 5


def test_a_question_added_through_the_api_is_recorded_as_on_the_page(org, api_for, client_for):
    body = {"part": "future", "text_pt": "Quem decide a renovação?", "text_en": "Who decides the renewal?"}
    client_for(org.admin).post(reverse("journey_settings:reviews"), body)
    on_the_page = recorded(last_change())
    review_settings.review_question_delete(question=ReviewTemplateQuestion.objects.latest("pk"), actor=org.admin)

    answer = api_for(org.admin).post(f"{API}/review-questions/", body, format="json")

    assert answer.status_code == 201
    assert recorded(last_change()) == on_the_page


def test_the_last_question_of_a_part_is_not_retired(org, api_for):
    api = api_for(org.admin)
    past = list(ReviewTemplateQuestion.objects.filter(part="past", active=True))
    for row in past[1:]:
        review_settings.review_question_retire(question=row, actor=org.admin)

    answer = api.post(f"{API}/review-questions/{past[0].pk}/retire/", **EN)

    assert answer.status_code == 400
    assert answer.json() == {"non_field_errors": ["Each part of the review keeps at least one question."]}
    assert question(past[0].key).active


def test_a_question_without_text_is_a_field_error_and_leaders_only_read(org, api_for):
    answer = api_for(org.admin).post(f"{API}/review-questions/", {"part": "past", "text_pt": "", "text_en": "X"})
    leader = api_for(org.leader_a)

    assert answer.status_code == 400
    assert "text_pt" in answer.json()
    assert leader.get(f"{API}/review-questions/", {"part": "future"}).status_code == 200
    assert {row["part"] for row in leader.get(f"{API}/review-questions/", {"part": "future"}).json()["results"]} == {
        "future"
    }
    assert leader.post(f"{API}/review-questions/{question('obstacles').pk}/retire/").status_code == 403
    assert api_for(org.csm_a).get(f"{API}/review-questions/").status_code == 403
    assert question("obstacles").active


def test_a_reason_of_a_retired_category_opens_no_new_churn_request(org):
    settings_services.churn_category_retire(category=reason().category, actor=org.admin)

    with pytest.raises(ValidationError) as refused:
        open_and_recover(CustomerFactory(owner=org.csm_a), org.csm_a, reason())

    assert refused.value.message_dict == {"reason": [in_portuguese("This reason is no longer in use; pick another.")]}
