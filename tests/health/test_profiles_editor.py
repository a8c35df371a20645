"""The health profile editor: every change is a new version with who and when, bad rules are refused with the
reason beside the field, and only admins change anything."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from core import clock
from health.models import HealthProfile
from health.profile_rules import version_diff
from health.profiles import profile_version_create

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 11, 3, 14, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))


@pytest.fixture
def profile():
    return HealthProfile.objects.get(service_model="high", stage="ongoing")


def rules(profile) -> dict:
    current = profile.versions.order_by("-number").first()
    return {key: dict(settings) for key, settings in current.measures.items()}


def form_data(profile, **changes) -> dict:
    current = profile.versions.order_by("-number").first()
    data = {"red_max": current.red_max, "yellow_max": current.yellow_max}
    for key, settings in current.measures.items():
        for field, value in settings.items():
            data[f"{key}-{field}"] = value
    data.update(changes)
    return data


# --- The service --------------------------------------------------------------------------------------------


def test_a_change_is_a_new_version_by_whom_and_when_and_the_old_one_stays(org, profile):
    measures = rules(profile)
    measures["adoption"]["weight"] = 30
    before = profile.versions.get(number=1)

    with clock.at(MOMENT):
        version = profile_version_create(profile=profile, measures=measures, red_max=45, yellow_max=70, actor=org.admin)

    version.refresh_from_db()
    assert version.number == 2
    assert version.created_by == org.admin
    assert version.created_at == MOMENT
    assert version.measures["adoption"] == {"weight": 30, "worst": 10, "best": 70, "fresh_days": 90}
    assert (version.red_max, version.yellow_max) == (45, 70)
    # the first version is as it was
    assert profile.versions.get(number=1).measures == before.measures
    assert profile.versions.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"adoption": {"weight": -5}}, "adoption-weight"),
        ({"adoption": {"worst": 70}}, "adoption-best"),
        ({"depth": {"fresh_days": 0}}, "depth-fresh_days"),
        ({"adoption": {"weight": None}}, "adoption-weight"),
    ],
)
def test_bad_measures_are_refused_by_field(org, profile, change, field):
    measures = rules(profile)
    for key, settings in change.items():
        measures[key].update(settings)

    with pytest.raises(ValidationError) as refused:
        profile_version_create(profile=profile, measures=measures, red_max=50, yellow_max=75, actor=org.admin)

    assert field in refused.value.message_dict
    assert profile.versions.count() == 1


def test_weights_adding_up_to_zero_are_refused(org, profile):
    measures = rules(profile)
    for settings in measures.values():
        settings["weight"] = 0

    with pytest.raises(ValidationError) as refused:
        profile_version_create(profile=profile, measures=measures, red_max=50, yellow_max=75, actor=org.admin)

    assert "__all__" in refused.value.message_dict


@pytest.mark.parametrize(("red", "yellow"), [(75, 75), (80, 60), (50, 101)])
def test_bands_out_of_order_are_refused(org, profile, red, yellow):
    with pytest.raises(ValidationError) as refused:
        profile_version_create(
            profile=profile, measures=rules(profile), red_max=red, yellow_max=yellow, actor=org.admin
        )

    assert "yellow_max" in refused.value.message_dict
    assert profile.versions.count() == 1


def test_the_same_rules_again_are_no_new_version(org, profile):
    with translation.override("pt-br"), pytest.raises(ValidationError, match="Nada mudou"):
        profile_version_create(profile=profile, measures=rules(profile), red_max=50, yellow_max=75, actor=org.admin)


@pytest.mark.parametrize("who", ["leader_a", "csm_a", "viewer_all"])
def test_only_admins_change_the_rules(org, profile, who):
    measures = rules(profile)
    measures["adoption"]["weight"] = 30

    with pytest.raises(PermissionDenied):
        profile_version_create(profile=profile, measures=measures, red_max=50, yellow_max=75, actor=getattr(org, who))

    assert profile.versions.count() == 1


def test_the_diff_names_each_setting_that_changed():
    before = {"measures": {"adoption": {"weight": 20, "worst": 10, "best": 70, "fresh_days": 90}}, "red_max": 50,
              "yellow_max": 75}  # fmt: skip
    after = {"measures": {"adoption": {"weight": 30, "worst": 10, "best": 60, "fresh_days": 90},
                          "depth": {"weight": 5, "worst": 1, "best": 10, "fresh_days": 90}}, "red_max": 40,
             "yellow_max": 75}  # fmt: skip

    with translation.override("pt-br"):
        changes = [(c.measure, c.setting, c.before, c.after) for c in version_diff(before, after)]

    assert changes == [
        ("Uso", "peso", 20, 30),
        ("Uso", "melhor", 70, 60),
        ("Profundidade de uso", "peso", None, 5),
        ("Profundidade de uso", "pior", None, 1),
        ("Profundidade de uso", "melhor", None, 10),
        ("Profundidade de uso", "atualidade (dias)", None, 90),
        ("", "vermelho até", 50, 40),
    ]


# --- The page -------------------------------------------------------------------------------------------------


def test_an_admin_saves_a_new_version_from_the_page_and_sees_it_listed(org, profile, client_for):
    client = client_for(org.admin)

    response = client.post(f"/health/profiles/{profile.pk}/", form_data(profile, **{"adoption-weight": 25}))

    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    version = profile.versions.get(number=2)
    assert version.created_by == org.admin
    assert version.measures["adoption"]["weight"] == 25
    assert 'id="version-2"' in page.text
    assert "Uso, peso: 20 → 25" in page.text
    assert "Versão 2 salva" in page.text
    assert "Renata Azevedo" in page.text


def test_an_htmx_save_with_an_empty_weight_answers_422_with_the_error_beside_the_field(org, profile, client_for):
    client = client_for(org.admin)

    response = client.post(
        f"/health/profiles/{profile.pk}/", form_data(profile, **{"adoption-weight": ""}), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "<html" not in response.text
    assert 'id="id_adoption-weight_error"' in response.text
    assert "Este campo é obrigatório." in response.text
    assert profile.versions.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"red_max": 80, "yellow_max": 70}, "O amarelo começa acima do vermelho"),
        ({"survey-worst": 90}, "Pior e melhor devem ser diferentes"),
        ({"adoption-weight": -1}, "Certifique-se que este valor seja maior ou igual a 0."),
    ],
)
def test_bad_rules_on_the_page_answer_422_with_the_reason(org, profile, client_for, changes, message):
    response = client_for(org.admin).post(f"/health/profiles/{profile.pk}/", form_data(profile, **changes))

    assert response.status_code == 422
    assert message in response.text
    assert profile.versions.count() == 1


def test_zero_weights_on_the_page_are_refused(org, profile, client_for):
    zeros = {f"{key}-weight": 0 for key in rules(profile)}

    response = client_for(org.admin).post(f"/health/profiles/{profile.pk}/", form_data(profile, **zeros))

    assert response.status_code == 422
    assert "Os pesos devem somar mais que 0" in response.text


@pytest.mark.parametrize("who", ["leader_a", "csm_a", "viewer_a"])
def test_everyone_else_reads_the_rules_and_cannot_post(org, profile, client_for, who):
    client = client_for(getattr(org, who))

    page = client.get(f"/health/profiles/{profile.pk}/")
    refused = client.post(f"/health/profiles/{profile.pk}/", form_data(profile, **{"adoption-weight": 25}))

    assert page.status_code == 200
    assert "Salvar como nova versão" not in page.text
    assert "vale a partir da próxima execução noturna" in page.text
    assert refused.status_code == 403
    assert profile.versions.count() == 1


def test_the_profiles_page_lists_every_profile_in_a_fixed_number_of_queries(org, profile, client_for,
                                                                            django_assert_max_num_queries):  # fmt: skip
    client = client_for(org.csm_a)
    client.get("/health/profiles/")  # sessions and the like, once

    with django_assert_max_num_queries(6):
        response = client.get("/health/profiles/")

    assert response.status_code == 200
    assert response.text.count('href="/health/profiles/') == HealthProfile.objects.count()


def test_the_profile_page_reads_its_versions_in_a_fixed_number_of_queries(org, profile, client_for,
                                                                          django_assert_max_num_queries):  # fmt: skip
    for weight in (21, 22, 23):
        measures = rules(profile)
        measures["adoption"]["weight"] = weight
        profile_version_create(profile=profile, measures=measures, red_max=50, yellow_max=75, actor=org.admin)
    client = client_for(org.admin)
    client.get(f"/health/profiles/{profile.pk}/")

    with django_assert_max_num_queries(6):
        response = client.get(f"/health/profiles/{profile.pk}/")

    assert response.text.count('id="version-') == 4


def test_an_unknown_profile_is_a_404(org, client_for):
    assert client_for(org.admin).get("/health/profiles/999999/").status_code == 404
