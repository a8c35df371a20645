"""The Settings services: who may change what, the history they keep, changes that apply to new journeys only,
and churn reasons retired rather than deleted."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from accounts.models import SettingChange
from portfolio import services
from portfolio import settings_services as settings_services
from portfolio.forms import ChurnRequestForm
from portfolio.models import ChurnCategory, ChurnReason, ChurnRequest, MilestoneKind, ServiceModel, ServiceModelPolicy
from portfolio.settings_selectors import churn_taxonomy, policies_by_service_model
from surveys import services as survey_services
from surveys.models import ChiCriterion
from surveys.settings_services import chi_criterion_save, survey_defaults_update
from tests.portfolio.factories import CustomerFactory, hand_off

HIGH = ServiceModel.HIGH_TOUCH


def english(text) -> str:
    """The history keeps Leme's source (English) words and translates them when shown."""
    with translation.override("en"):
        return str(text)


def high_policy(**changes) -> dict:
    policy = ServiceModelPolicy.objects.get(service_model=HIGH)
    values = {
        "first_value_days": policy.first_value_days,
        "first_success_days": policy.first_success_days,
        "review_every_months": policy.review_every_months,
        "handoff_by_meeting": policy.handoff_by_meeting,
        "uti_days": policy.uti_days,
    }
    return {**values, **changes}


def open_and_recover(customer, csm, reason):
    detail = "O novo CFO cortou 40% do orçamento de SaaS"
    request = services.churn_request_open(customer=customer, kind="voluntary", reason=reason, detail=detail, actor=csm)
    services.save_attempt_add(churn_request=request, offer="Dois meses com 30% de desconto", actor=csm)
    services.churn_request_resolve(churn_request=request, outcome="recovered", actor=csm)
    return request


# --- Who may -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["leader_a", "csm_a", "ism_a", "viewer_all"])
def test_only_admins_change_the_settings(org, who):
    person = getattr(org, who)
    reason = ChurnReason.objects.get(code="budget-cut")
    with pytest.raises(PermissionDenied):
        settings_services.policy_update(service_model=HIGH, actor=person, **high_policy(uti_days=45))
    with pytest.raises(PermissionDenied):
        settings_services.churn_reason_retire(reason=reason, actor=person)
    with pytest.raises(PermissionDenied):
        survey_defaults_update(fatigue_days=120, reminder_after_days=3, expires_after_days=20, actor=person)
    assert ServiceModelPolicy.objects.get(service_model=HIGH).uti_days == 30
    reason.refresh_from_db()
    assert reason.active
    assert not SettingChange.objects.exists()


# --- The history ----------------------------------------------------------------------------------------------


def test_a_policy_change_is_recorded_with_who_when_what_and_its_effect(org):
    before = timezone.now()
    settings_services.policy_update(
        service_model=HIGH, actor=org.admin, **high_policy(first_value_days=12, uti_days=45)
    )
    change = SettingChange.objects.get()
    assert (change.area, change.subject, change.actor) == ("journey", "High-touch", org.admin)
    assert change.changed_at >= before
    assert change.changes == [
        {
            "field": "first value within (days)",
            "before": "10",
            "after": "12",
            "effect": english(settings_services.ONBOARDING_EFFECT),
        },
        {"field": "UTI length (days)", "before": "30", "after": "45", "effect": english(settings_services.UTI_EFFECT)},
    ]


def test_saving_a_policy_unchanged_records_nothing(org):
    settings_services.policy_update(service_model=HIGH, actor=org.admin, **high_policy())
    assert not SettingChange.objects.exists()


def test_a_policy_that_reaches_first_success_before_first_value_is_refused(org):
    with pytest.raises(ValidationError) as refused:
        settings_services.policy_update(
            service_model=HIGH, actor=org.admin, **high_policy(first_value_days=30, first_success_days=20)
        )
    assert "first_success_days" in refused.value.message_dict
    assert ServiceModelPolicy.objects.get(service_model=HIGH).first_success_days == 45
    assert not SettingChange.objects.exists()


# --- New journeys only ------------------------------------------------------------------------------------------


def test_a_policy_change_dates_new_onboardings_and_leaves_running_ones_alone(org):
    # given a customer already in onboarding under the high-touch policy (10 and 45 days)
    start = timezone.localdate() - timedelta(days=5)
    running = CustomerFactory(service_model=HIGH, implementation_manager=org.ism_a, start_date=start)
    running_targets = {m.kind: m.target_date for m in running.milestones.all()}
    assert running_targets[MilestoneKind.FIRST_VALUE] == start + timedelta(days=10)
    # when the admin shortens first value and lengthens first success
    settings_services.policy_update(
        service_model=HIGH, actor=org.admin, **high_policy(first_value_days=7, first_success_days=60)
    )
    # then the running customer keeps its dates, and a customer entering onboarding now gets the new ones
    assert {m.kind: m.target_date for m in running.milestones.all()} == running_targets
    newcomer = CustomerFactory(service_model=HIGH, implementation_manager=org.ism_a, start_date=start)
    new_targets = {m.kind: m.target_date for m in newcomer.milestones.all()}
    assert new_targets[MilestoneKind.FIRST_VALUE] == start + timedelta(days=7)
    assert new_targets[MilestoneKind.FIRST_SUCCESS] == start + timedelta(days=60)


def test_a_longer_uti_applies_to_stays_that_start_afterwards(org):
    reason = ChurnReason.objects.get(code="budget-cut")
    in_uti = CustomerFactory(owner=org.csm_a)
    hand_off(in_uti, org.csm_a)
    open_and_recover(in_uti, org.csm_a, reason)
    stay_before = in_uti.uti_stays.get()
    settings_services.policy_update(service_model=HIGH, actor=org.admin, **high_policy(uti_days=45))
    later = CustomerFactory(owner=org.csm_a)
    hand_off(later, org.csm_a)
    open_and_recover(later, org.csm_a, reason)
    stay_before_again = in_uti.uti_stays.get()
    assert stay_before_again.ends_on == stay_before.ends_on == stay_before.started_on + timedelta(days=30)
    stay_after = later.uti_stays.get()
    assert stay_after.ends_on == stay_after.started_on + timedelta(days=45)


def test_survey_defaults_apply_to_campaigns_created_afterwards(org):
    earlier = survey_services.campaign_create(name="NPS trimestral", kind="nps", actor=org.admin)
    survey_defaults_update(fatigue_days=120, reminder_after_days=3, expires_after_days=20, actor=org.admin)
    later = survey_services.campaign_create(name="NPS semestral", kind="nps", actor=org.admin)
    earlier.refresh_from_db()
    assert (earlier.fatigue_days, earlier.reminder_after_days, earlier.expires_after_days) == (90, 4, 30)
    assert (later.fatigue_days, later.reminder_after_days, later.expires_after_days) == (120, 3, 20)
    assert SettingChange.objects.get(area="surveys").actor == org.admin


def test_survey_defaults_refuse_a_reminder_after_the_link_expires_and_a_fatigue_below_the_workspace_rule(org):
    with pytest.raises(ValidationError) as refused:
        survey_defaults_update(fatigue_days=30, reminder_after_days=25, expires_after_days=20, actor=org.admin)
    assert set(refused.value.message_dict) == {"fatigue_days"}
    with pytest.raises(ValidationError) as refused:
        survey_defaults_update(fatigue_days=90, reminder_after_days=25, expires_after_days=20, actor=org.admin)
    assert set(refused.value.message_dict) == {"reminder_after_days"}


# --- Retire, never delete --------------------------------------------------------------------------------------


def test_a_retired_reason_is_no_longer_offered_but_stays_on_old_requests(org):
    # given a churn request that names the reason
    reason = ChurnReason.objects.get(code="budget-cut")
    customer = CustomerFactory(owner=org.csm_a)
    hand_off(customer, org.csm_a)
    request = open_and_recover(customer, org.csm_a, reason)
    # when the admin retires it
    reason = settings_services.churn_reason_retire(reason=reason, actor=org.admin)
    # then the old request still names it, new requests neither offer nor accept it, and the history says so
    assert ChurnRequest.objects.get(pk=request.pk).reason == reason
    assert reason not in ChurnRequestForm().fields["reason"].queryset
    other = CustomerFactory(owner=org.csm_a)
    hand_off(other, org.csm_a)
    with pytest.raises(ValidationError):
        services.churn_request_open(
            customer=other, kind="voluntary", reason=reason, detail="Fusão cortou o orçamento de SaaS", actor=org.csm_a
        )
    change = SettingChange.objects.get(area="churn_reasons")
    assert change.changes[0]["before"] == "yes"
    assert change.changes[0]["after"] == "no"
    assert change.effect == english(settings_services.RETIRE_EFFECT)
    listed = {r.code: r for c in churn_taxonomy() for r in c.reasons.all()}
    assert (listed["budget-cut"].active, listed["budget-cut"].in_use) == (False, 1)


def test_a_reason_in_use_cannot_be_deleted(org):
    reason = ChurnReason.objects.get(code="budget-cut")
    customer = CustomerFactory(owner=org.csm_a)
    hand_off(customer, org.csm_a)
    open_and_recover(customer, org.csm_a, reason)
    with pytest.raises(ValidationError, match="Desative-o"):
        settings_services.churn_reason_delete(reason=reason, actor=org.admin)
    assert ChurnReason.objects.filter(pk=reason.pk).exists()


def test_an_unused_reason_is_deleted_and_a_retired_one_offered_again(org):
    category = ChurnCategory.objects.get(code="price")
    typo = settings_services.churn_reason_create(
        category=category, name_pt="Reajuste acima do IGP-M", name_en="Increase above inflation", actor=org.admin
    )
    settings_services.churn_reason_delete(reason=typo, actor=org.admin)
    assert not ChurnReason.objects.filter(pk=typo.pk).exists()
    reason = ChurnReason.objects.get(code="seasonal")
    settings_services.churn_reason_retire(reason=reason, actor=org.admin)
    settings_services.churn_reason_restore(reason=reason, actor=org.admin)
    reason.refresh_from_db()
    assert reason.active
    assert SettingChange.objects.filter(area="churn_reasons").count() == 4


def test_the_involuntary_reason_leme_uses_itself_stays(org):
    with pytest.raises(ValidationError):
        settings_services.churn_reason_retire(reason=ChurnReason.objects.get(code="invoice-unpaid"), actor=org.admin)


def test_a_new_reason_needs_both_languages_and_a_name_not_taken(org):
    category = ChurnCategory.objects.get(code="price")
    with pytest.raises(ValidationError) as refused:
        settings_services.churn_reason_create(category=category, name_pt="  ", name_en="", actor=org.admin)
    assert set(refused.value.message_dict) == {"name_pt", "name_en"}
    with pytest.raises(ValidationError):
        settings_services.churn_reason_create(
            category=category,
            name_pt="não aceitou o reajuste de preço",
            name_en="Did not accept the price increase",
            actor=org.admin,
        )


def test_the_policies_list_reads_in_one_query(org, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = policies_by_service_model()
    assert [r.service_model for r in rows] == ["high", "low", "tech"]


# --- CHI criteria -------------------------------------------------------------------------------------------------


def test_an_admin_rewords_and_adds_chi_criteria_and_the_history_keeps_both(org):
    chi_criterion_save(
        position=1,
        text_pt="Usa o relatório semanal",
        text_en="Uses the weekly report",
        answered_by="csm",
        actor=org.admin,
    )
    chi_criterion_save(
        position=1,
        text_pt="Usa o relatório toda semana",
        text_en="Uses the weekly report",
        answered_by="csm",
        actor=org.admin,
    )
    assert ChiCriterion.objects.get(position=1).text_pt == "Usa o relatório toda semana"
    added, reworded = SettingChange.objects.filter(area="chi").order_by("pk")
    assert [c["field"] for c in added.changes] == ["Criterion in Portuguese", "Criterion in English", "Answered by"]
    assert reworded.changes == [
        {
            "field": "Criterion in Portuguese",
            "before": "Usa o relatório semanal",
            "after": "Usa o relatório toda semana",
            "effect": "",
        }
    ]


def test_chi_criteria_are_the_admins_and_need_both_languages(org):
    with pytest.raises(PermissionDenied):
        chi_criterion_save(position=2, text_pt="Renovou", text_en="Renewed", answered_by="csm", actor=org.leader_a)
    with pytest.raises(ValidationError) as refused:
        chi_criterion_save(position=11, text_pt="", text_en="Renewed", answered_by="nobody", actor=org.admin)
    assert set(refused.value.message_dict) == {"position", "text_pt", "answered_by"}
    assert not ChiCriterion.objects.exists()
