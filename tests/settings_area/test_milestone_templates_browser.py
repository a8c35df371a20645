"""An admin manages the onboarding milestones on the Settings page, on a desktop and on a phone: an empty new
milestone is refused beside the field, then one is added to high-touch and moved before first success."""

import pytest

from portfolio.models import MilestoneTemplate, ServiceModel
from portfolio.settings_milestone_selectors import milestone_templates_active
from portfolio.settings_milestone_services import milestone_templates_ensure
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_an_admin_adds_a_milestone_sees_the_error_of_an_empty_one_and_reorders(page, login_page, org, width, height):
    # given Leme's milestones (a transactional test empties the data migration's rows)
    for service_model in ServiceModel.values:
        milestone_templates_ensure(service_model)
    page.set_viewport_size({"width": width, "height": height})
    login_page(page, org.admin)
    page.goto(f"{page.base_url}/settings/")
    page.locator(".settings-sections a h2:text-is('Marcos da implantação')").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, f"settings-milestones-{width}")

    # an empty new milestone is refused beside its fields, in Portuguese
    form = page.locator("#new-milestone-form")
    form.locator("button[type=submit]").click()
    error = page.locator("#id_name_pt_error")
    error.wait_for()
    assert "Informe o nome do marco em português." in error.inner_text()
    assert "inglês" in page.locator("#id_name_en_error").inner_text()
    error.scroll_into_view_if_needed()
    screenshot(page, f"settings-milestones-error-{width}")

    # a named one is added at the end of high-touch
    page.select_option("#id_service_model", "high")
    page.fill("#id_name_pt", "Equipe do cliente treinada")
    page.fill("#id_name_en", "Customer team trained")
    page.locator("#new-milestone-form button[type=submit]").click()
    page.locator(".messages:has-text('adicionado')").wait_for()
    added = MilestoneTemplate.objects.get(name_en="Customer team trained")
    high = page.locator("#service-model-high")
    assert "Equipe do cliente treinada" in high.locator(f"#milestone-template-{added.pk}").inner_text()
    assert high.locator("li").last.get_attribute("id") == f"milestone-template-{added.pk}"

    # moved up: before first success, and the history says what that affects
    page.locator(f"#milestone-template-{added.pk} button[aria-label^='Mover para cima']").click()
    page.locator(".messages:has-text('movido')").wait_for()
    ids = high.locator("ol > li").evaluate_all("rows => rows.map(r => r.id)")
    assert ids.index(f"milestone-template-{added.pk}") == 1
    assert [t.kind for t in milestone_templates_active("high")] == ["first_value", "other", "first_success"]
    history = page.locator("#settings-history").inner_text()
    assert "Aplica-se aos clientes que entram em implantação a partir de agora" in history
    high.scroll_into_view_if_needed()
    screenshot(page, f"settings-milestones-moved-{width}")
