"""The onboarding milestone templates on the Settings pages: Leme's built-in milestones shipped as the templates of
every service model (existing milestones linked to them), milestones added, renamed, reordered, retired and
restored by admins (recorded in the history with what they affect), customers entering onboarding from then on
getting one milestone per active template while those already in onboarding keep theirs, and the page (the door,
422 with the reason) and the API (400 with field errors, the same rule of who may)."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone

from accounts.models import SettingChange
from portfolio import settings_milestone_services as milestone_settings
from portfolio.models import Milestone, MilestoneKind, MilestoneTemplate, ServiceModel
from portfolio.services.onboarding import handoff_unreached_warning
from portfolio.services.policies import policy_for
from portfolio.settings_milestone_selectors import milestone_templates_active, milestone_templates_by_service_model
from portfolio.taxonomy import MILESTONE_TEMPLATES
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("journey_settings:milestones")
API = "/api/v1/settings/milestone-templates/"
EFFECT_EN = (
    "Applies to customers who enter onboarding from now on; customers already in onboarding keep their milestones."
)
EFFECT_PT = "Aplica-se aos clientes que entram em implantação a partir de agora"
KICKOFF = {"name_pt": "Reunião de kickoff feita", "name_en": "Kickoff meeting held"}


@pytest.fixture(autouse=True)
def templates():
    """Leme's templates (a data migration's rows: a transactional test before may have emptied them)."""
    for service_model in ServiceModel.values:
        milestone_settings.milestone_templates_ensure(service_model)


def template(service_model: str, kind: str) -> MilestoneTemplate:
    return MilestoneTemplate.objects.get(service_model=service_model, kind=kind)


def names(service_model: str = ServiceModel.HIGH_TOUCH) -> list[str]:
    return [t.name_en for t in milestone_templates_active(service_model)]


# --- The default and the migration ---------------------------------------------------------------------------------


def test_every_service_model_starts_with_leme_s_built_in_milestones_in_both_languages():
    for service_model in ServiceModel.values:
        active = milestone_templates_active(service_model)
        assert [(t.kind, t.name_pt, t.name_en) for t in active] == [tuple(m) for m in MILESTONE_TEMPLATES]


def test_the_migration_links_milestones_written_before_it_to_their_service_model_s_template():
    # given customers whose milestones were written before the templates existed
    high = CustomerFactory(service_model=ServiceModel.HIGH_TOUCH)
    tech = CustomerFactory(service_model=ServiceModel.TECH_TOUCH)
    Milestone.objects.update(template=None)
    extra = Milestone.objects.create(
        customer=high, kind=MilestoneKind.OTHER, description="Treinamento", target_date=high.start_date
    )

    # when the migration's data step runs
    import_module("portfolio.migrations.0017_milestone_templates").install_default_templates(django_apps, None)

    # then first value and first success point to their service model's template; another kind keeps none
    linked = {(m.customer_id, m.kind): m.template for m in Milestone.objects.exclude(pk=extra.pk)}
    assert linked == {
        (high.pk, "first_value"): template("high", "first_value"),
        (high.pk, "first_success"): template("high", "first_success"),
        (tech.pk, "first_value"): template("tech", "first_value"),
        (tech.pk, "first_success"): template("tech", "first_success"),
    }
    extra.refresh_from_db()
    assert extra.template is None
    assert MilestoneTemplate.objects.count() == 6


# --- New customers get the templates; running ones keep theirs ------------------------------------------------------


def test_a_new_customer_gets_one_milestone_per_active_template_of_its_service_model_in_order(org):
    # given a training milestone added to high-touch, moved before first success, and another retired
    kickoff = milestone_settings.milestone_template_add(service_model="high", **KICKOFF, actor=org.admin)
    training = milestone_settings.milestone_template_add(
        service_model="high", name_pt="Equipe treinada", name_en="Team trained", actor=org.admin
    )
    milestone_settings.milestone_template_move(template=training, up=True, actor=org.admin)
    milestone_settings.milestone_template_move(template=training, up=True, actor=org.admin)
    milestone_settings.milestone_template_retire(template=kickoff, actor=org.admin)
    start = timezone.localdate() - timedelta(days=20)

    # when a high-touch and a low-touch customer enter onboarding
    high = CustomerFactory(service_model="high", start_date=start)
    low = CustomerFactory(service_model="low", start_date=start)

    # then the high-touch one gets its three active milestones in order, the low-touch one Leme's two
    milestones = list(high.milestones.order_by("pk"))
    assert [(m.template.name_en, m.kind) for m in milestones] == [
        ("First value: the first concrete sign the product delivers", "first_value"),
        ("Team trained", "other"),
        ("First success: the onboarding's concrete result", "first_success"),
    ]
    assert milestones[1].description == "Equipe treinada"  # named in the language of the moment (pt-BR)
    first_success = milestones[2].target_date
    assert first_success == start + timedelta(days=policy_for("high").first_success_days)
    assert milestones[1].target_date == first_success
    assert [m.kind for m in low.milestones.order_by("pk")] == ["first_value", "first_success"]
    # what reads milestones by their kind is unchanged
    first_value_days = policy_for("high").first_value_days
    assert high.milestones.get(kind=MilestoneKind.FIRST_VALUE).target_date == start + timedelta(days=first_value_days)
    assert handoff_unreached_warning(high) is True


def test_a_milestone_of_an_added_template_is_shown_and_reached_by_its_name(org, client_for):
    # given a high-touch customer that got a "team trained" milestone
    milestone_settings.milestone_template_add(
        service_model="high", name_pt="Equipe treinada", name_en="Team trained", actor=org.admin
    )
    customer = CustomerFactory(service_model="high", implementation_manager=org.ism_a)
    training = customer.milestones.get(kind=MilestoneKind.OTHER)
    ism = client_for(org.ism_a)

    # when the ISM looks at the onboarding board and marks it reached
    board = ism.get(reverse("portfolio:onboarding")).content.decode()
    reached = ism.post(
        reverse("portfolio:milestone_achieve", args=[customer.pk, training.pk]),
        {"achieved_on": timezone.localdate().isoformat()},
    )

    # then the board names it, and the timeline says it was reached by its name
    assert "Equipe treinada" in board
    assert reached.status_code == 302
    training.refresh_from_db()
    assert training.achieved_on == timezone.localdate()
    assert customer.activities.filter(title="Marco alcançado: Equipe treinada").exists()


def test_customers_already_in_onboarding_keep_their_milestones_when_the_templates_change(org):
    # given a customer already in onboarding
    running = CustomerFactory(service_model="high")
    before = [(m.pk, m.description, m.target_date, m.template_id) for m in running.milestones.order_by("pk")]

    # when the admin renames first value, adds a milestone and retires it again
    milestone_settings.milestone_template_edit(
        template=template("high", "first_value"), name_pt="Primeiro uso real", name_en="First real use", actor=org.admin
    )
    kickoff = milestone_settings.milestone_template_add(service_model="high", **KICKOFF, actor=org.admin)

    # then its milestones are those it had; a newcomer gets the new ones
    assert [(m.pk, m.description, m.target_date, m.template_id) for m in running.milestones.order_by("pk")] == before
    newcomer = CustomerFactory(service_model="high")
    assert [m.description for m in newcomer.milestones.order_by("pk")] == [
        "Primeiro uso real",
        "Primeiro sucesso: o resultado concreto da implantação",
        "Reunião de kickoff feita",
    ]
    milestone_settings.milestone_template_retire(template=kickoff, actor=org.admin)
    assert newcomer.milestones.filter(template=kickoff).exists()


def test_a_service_model_without_templates_gets_leme_s_milestones_again():
    MilestoneTemplate.objects.filter(service_model="tech", milestones__isnull=True).delete()
    assert not MilestoneTemplate.objects.filter(service_model="tech").exists()

    customer = CustomerFactory(service_model="tech")

    assert [m.kind for m in customer.milestones.order_by("pk")] == ["first_value", "first_success"]
    assert MilestoneTemplate.objects.filter(service_model="tech").count() == 2


# --- The services ---------------------------------------------------------------------------------------------------


def test_an_admin_adds_renames_moves_retires_and_restores_and_each_change_is_in_the_history(org):
    kickoff = milestone_settings.milestone_template_add(service_model="high", **KICKOFF, actor=org.admin)
    milestone_settings.milestone_template_edit(
        template=kickoff, name_pt="Kickoff feito", name_en="Kickoff held", actor=org.admin
    )
    milestone_settings.milestone_template_move(template=kickoff, up=True, actor=org.admin)
    milestone_settings.milestone_template_retire(template=kickoff, actor=org.admin)
    assert names() == [
        "First value: the first concrete sign the product delivers",
        "First success: the onboarding's concrete result",
    ]
    milestone_settings.milestone_template_restore(template=kickoff, actor=org.admin)

    assert names() == [
        "First value: the first concrete sign the product delivers",
        "Kickoff held",
        "First success: the onboarding's concrete result",
    ]
    assert names("low") == names("tech") == [m[2] for m in MILESTONE_TEMPLATES]
    history = list(SettingChange.objects.filter(area="milestones").order_by("pk"))
    assert [h.actor for h in history] == [org.admin] * 5
    assert {h.effect for h in history} == {EFFECT_EN}
    assert history[0].changes[1] == {"field": "Service model", "before": "—", "after": "High-touch", "effect": ""}
    assert history[1].changes[0] == {
        "field": "Name in Portuguese",
        "before": "Reunião de kickoff feita",
        "after": "Kickoff feito",
        "effect": "",
    }
    assert (history[2].changes[0]["before"], history[2].changes[0]["after"]) == ("3", "2")
    assert history[3].changes[0]["field"] == "Given to new customers"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"name_pt": "", "name_en": "Kickoff"}, "name_pt"),
        ({"name_pt": "Kickoff", "name_en": "   "}, "name_en"),
        ({"name_pt": "primeiro sucesso: o resultado concreto da implantação", "name_en": "Other"}, "name_pt"),
        ({"name_pt": "Outro", "name_en": "FIRST VALUE: THE FIRST CONCRETE SIGN THE PRODUCT DELIVERS"}, "name_en"),
        ({"name_pt": "Outro", "name_en": "Other", "service_model": "medium"}, "service_model"),
    ],
)
def test_a_milestone_needs_both_names_no_duplicate_and_a_service_model(org, given, field):
    with pytest.raises(ValidationError) as refused:
        milestone_settings.milestone_template_add(**{"service_model": "high", **given}, actor=org.admin)

    assert field in refused.value.message_dict
    assert MilestoneTemplate.objects.count() == 6
    assert not SettingChange.objects.filter(area="milestones").exists()


def test_only_admins_change_the_milestones(org):
    kickoff = milestone_settings.milestone_template_add(service_model="high", **KICKOFF, actor=org.admin)
    for person in (org.leader_a, org.csm_a, org.ism_a, org.viewer_a):
        with pytest.raises(PermissionDenied):
            milestone_settings.milestone_template_retire(template=kickoff, actor=person)
        with pytest.raises(PermissionDenied):
            milestone_settings.milestone_template_add(service_model="low", **KICKOFF, actor=person)
    assert MilestoneTemplate.objects.get(pk=kickoff.pk).active
    assert MilestoneTemplate.objects.count() == 7


def test_first_value_and_first_success_are_renamed_never_retired_and_a_used_template_is_never_deleted(org):
    CustomerFactory(service_model="high")
    first_value = template("high", "first_value")

    with pytest.raises(ValidationError) as refused:
        milestone_settings.milestone_template_retire(template=first_value, actor=org.admin)
    with pytest.raises(ProtectedError):
        first_value.delete()

    assert "renomeie-o" in refused.value.messages[0]
    assert MilestoneTemplate.objects.get(pk=first_value.pk).active


def test_moving_past_an_end_changes_nothing(org):
    first_value = template("high", "first_value")

    milestone_settings.milestone_template_move(template=first_value, up=True, actor=org.admin)

    assert names()[0] == "First value: the first concrete sign the product delivers"
    assert not SettingChange.objects.filter(area="milestones").exists()


# --- The page -------------------------------------------------------------------------------------------------------


def test_an_admin_sees_every_service_model_s_milestones_and_a_leader_only_reads(
    org, client_for, django_assert_max_num_queries
):
    kickoff = milestone_settings.milestone_template_add(service_model="low", **KICKOFF, actor=org.admin)
    milestone_settings.milestone_template_retire(template=kickoff, actor=org.admin)
    CustomerFactory(service_model="high")
    admin = client_for(org.admin)
    with django_assert_max_num_queries(12):
        page = admin.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert all(label in html for label in ("High-touch", "Low-touch", "Tech-touch"))
    assert "Reunião de kickoff feita" in html
    assert f'id="milestone-template-{kickoff.pk}" class="retired"' in html
    assert reverse("journey_settings:milestone_template_restore") in html
    assert EFFECT_PT in html
    assert "1 marco de cliente" in html

    leader = client_for(org.leader_a)
    read = leader.get(PAGE).content.decode()
    assert "Reunião de kickoff feita" in read
    assert reverse("journey_settings:milestone_template_retire") not in read
    assert leader.post(PAGE, {"service_model": "high", **KICKOFF}).status_code == 403
    restore = reverse("journey_settings:milestone_template_restore")
    assert leader.post(restore, {"template": kickoff.pk}).status_code == 403
    for person in (org.csm_a, org.ism_a, org.viewer_a):
        assert client_for(person).get(PAGE).status_code == 403
    assert not MilestoneTemplate.objects.get(pk=kickoff.pk).active
    settings_index = admin.get(reverse("accounts:settings")).content.decode()
    assert settings_index.count(PAGE) >= 2  # the index's card and the navigation


def test_a_new_milestone_without_its_english_answers_422_with_the_reason_and_htmx_gets_the_main_part(org, client_for):
    client = client_for(org.admin)

    empty = client.post(PAGE, {"service_model": "high", "name_pt": "Kickoff feito", "name_en": ""})
    htmx = client.post(PAGE, {"service_model": "high", "name_pt": "", "name_en": ""}, HTTP_HX_REQUEST="true")
    taken = "first success: the onboarding's concrete result"
    duplicate = client.post(PAGE, {"service_model": "high", "name_pt": "Outro", "name_en": taken})

    assert empty.status_code == 422
    assert 'value="Kickoff feito"' in empty.content.decode()
    assert "Informe o nome do marco em inglês." in empty.content.decode()
    assert htmx.status_code == 422
    assert htmx.content.decode().lstrip().startswith('<div id="milestones-main">')
    assert "Informe o nome do marco em português." in htmx.content.decode()
    assert duplicate.status_code == 422
    assert "Este modelo de atendimento já tem um marco com este nome." in duplicate.content.decode()
    assert MilestoneTemplate.objects.count() == 6
    added = client.post(PAGE, {"service_model": "tech", **KICKOFF}, HTTP_HX_REQUEST="true")
    assert added.status_code == 200
    assert "Marco “Reunião de kickoff feita” adicionado." in added.content.decode()
    assert names("tech")[-1] == "Kickoff meeting held"


def test_renaming_with_an_empty_name_answers_422_and_retiring_first_value_answers_422_with_why(org, client_for):
    client = client_for(org.admin)
    edit = reverse("journey_settings:milestone_template_edit")
    pk = template("high", "first_value").pk

    bad = client.post(edit, {"template": pk, f"m{pk}-name_pt": "", f"m{pk}-name_en": "First real use"})
    refused = client.post(reverse("journey_settings:milestone_template_retire"), {"template": pk})
    renamed = {f"m{pk}-name_pt": "Primeiro uso real", f"m{pk}-name_en": "First real use"}
    good = client.post(edit, {"template": pk, **renamed})
    moved = client.post(reverse("journey_settings:milestone_template_move"), {"template": pk, "direction": "down"})

    assert bad.status_code == 422
    assert 'value="First real use"' in bad.content.decode()
    assert refused.status_code == 422
    assert "renomeie-o" in refused.content.decode()
    assert good.status_code == 302
    assert moved.status_code == 302
    assert names() == ["First success: the onboarding's concrete result", "First real use"]


# --- The API --------------------------------------------------------------------------------------------------------


def test_the_api_lists_adds_renames_moves_retires_and_restores_through_the_same_services(org, api_for):
    api = api_for(org.admin)

    listed = api.get(API, {"service_model": "high"})
    created = api.post(API, {"service_model": "high", **KICKOFF}, format="json")
    pk = created.json()["id"]
    renamed = api.patch(f"{API}{pk}/", {"name_en": "Kickoff done"}, format="json")
    moved = api.post(f"{API}{pk}/move/", {"direction": "up"}, format="json")
    retired = api.post(f"{API}{pk}/retire/")
    restored = api.post(f"{API}{pk}/restore/")

    assert listed.status_code == 200
    assert [(t["kind"], t["position"], t["active"]) for t in listed.json()["results"]] == [
        ("first_value", 1, True),
        ("first_success", 2, True),
    ]
    assert created.status_code == 201
    assert created.json()["kind"] == "other"
    assert created.json()["in_use"] == 0
    assert renamed.status_code == 200
    assert (renamed.json()["name_pt"], renamed.json()["name_en"]) == ("Reunião de kickoff feita", "Kickoff done")
    assert moved.json()["position"] == 2
    assert retired.json()["active"] is False
    assert restored.json()["active"] is True
    assert names() == [
        "First value: the first concrete sign the product delivers",
        "Kickoff done",
        "First success: the onboarding's concrete result",
    ]
    assert SettingChange.objects.filter(area="milestones", actor=org.admin).count() == 5


def test_the_api_answers_400_with_field_errors_and_leaders_read_only(org, api_for):
    admin, leader = api_for(org.admin), api_for(org.leader_a)
    first_value = template("high", "first_value")

    missing = admin.post(API, {"service_model": "high", "name_pt": "Kickoff"}, format="json")
    duplicate = admin.post(
        API, {"service_model": "high", "name_pt": "Outro", "name_en": first_value.name_en}, format="json"
    )
    wrong_model = admin.post(API, {"service_model": "medium", **KICKOFF}, format="json")
    not_retired = admin.post(f"{API}{first_value.pk}/retire/")
    bad_move = admin.post(f"{API}{first_value.pk}/move/", {"direction": "sideways"}, format="json")

    assert missing.status_code == 400
    assert set(missing.json()) == {"name_en"}
    assert duplicate.status_code == 400
    assert set(duplicate.json()) == {"name_en"}
    assert set(wrong_model.json()) == {"service_model"}
    assert not_retired.status_code == 400
    assert "non_field_errors" in not_retired.json()
    assert set(bad_move.json()) == {"direction"}
    assert leader.get(API).status_code == 200
    refused = leader.post(API, {"service_model": "high", **KICKOFF}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Só administradores alteram as configurações do espaço de trabalho."
    assert leader.post(f"{API}{first_value.pk}/retire/").status_code == 403
    for person in (org.csm_a, org.ism_a, org.viewer_a):
        assert api_for(person).get(API).status_code == 403
    assert api_for(org.csm_a).get(API).json()["detail"].startswith("Só administradores e líderes")
    assert MilestoneTemplate.objects.count() == 6


def test_the_api_operations_are_in_the_schema(org, api_for):
    schema = api_for(org.admin).get("/api/v1/schema/?format=json").json()

    paths = schema["paths"]
    assert set(paths[API]) >= {"get", "post"}
    assert set(paths[API + "{id}/"]) >= {"get", "put", "patch"}
    assert "delete" not in paths[API + "{id}/"]
    assert {API + "{id}/retire/", API + "{id}/restore/", API + "{id}/move/"} <= set(paths)


def test_the_page_groups_templates_by_service_model():
    grouped = milestone_templates_by_service_model()

    assert [value for value, _label, _rows in grouped] == ["high", "low", "tech"]
    assert all(len(rows) == 2 for _value, _label, rows in grouped)
