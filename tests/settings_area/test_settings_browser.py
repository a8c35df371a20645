"""An admin changes a journey policy, retires a churn reason and a churn category on the Settings pages, on a
desktop and on a phone."""

import pytest

from portfolio.models import ChurnReason, ServiceModelPolicy
from tests.conftest import ARTIFACTS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_an_admin_changes_a_policy_and_retires_a_reason(page, login_page, org, width, height):
    page.set_viewport_size({"width": width, "height": height})
    login_page(page, org.admin)

    # Settings is in the navigation; its overview leads to the journey policies
    page.locator(".mainnav a:has-text('Configurações')").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, f"settings-overview-{width}")
    page.locator(".settings-sections a:has-text('Políticas da jornada')").click()
    page.wait_for_load_state("networkidle")

    # a first success before first value is refused beside the field, nothing saved
    card = page.locator("#policy-high")
    card.locator("#id_high-first_success_days").fill("5")
    card.locator("button[type=submit]").click()
    error = page.locator("#id_high-first_success_days_error")
    error.wait_for()
    assert "primeiro sucesso vem depois do primeiro valor" in error.inner_text().lower()
    error.scroll_into_view_if_needed()
    screenshot(page, f"settings-policy-error-{width}")

    page.locator("#id_high-first_success_days").fill("60")
    page.locator("#policy-high button[type=submit]").click()
    page.locator("#policy-high .message.success").wait_for()
    history = page.locator("#settings-history")
    assert "Renata Azevedo" in history.inner_text()
    assert "Aplica-se aos clientes que entrarem em implantação a partir de agora" in history.inner_text()
    assert ServiceModelPolicy.objects.get(service_model="high").first_success_days == 60
    history.scroll_into_view_if_needed()
    screenshot(page, f"settings-policy-saved-{width}")

    # the seasonal reason is retired: still listed, marked, and the history says what that affects
    seasonal = ChurnReason.objects.get(code="seasonal")
    page.locator(".subnav a:has-text('Motivos de churn')").click()
    page.wait_for_load_state("networkidle")
    page.locator(f"#reason-{seasonal.pk} button:has-text('Desativar')").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("novos pedidos de churn deixam de oferecê-lo").first.is_visible()
    row = page.locator(f"#reason-{seasonal.pk}")
    assert "Desativado" in row.inner_text()
    assert row.locator("button:has-text('Oferecer de novo')").is_visible()
    row.scroll_into_view_if_needed()
    screenshot(page, f"settings-reason-retired-{width}")
    # the retired row's category and the history, close up, to be looked at on the phone too
    row.locator("xpath=ancestor::section").screenshot(path=str(ARTIFACTS / f"settings-reason-category-{width}.png"))
    page.locator("#settings-history").screenshot(path=str(ARTIFACTS / f"settings-reason-history-{width}.png"))
    seasonal.refresh_from_db()
    assert not seasonal.active

    # the other Settings pages, read as they are, to be looked at
    page.locator(".subnav a:has-text('Pesquisas')").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#id_expires_after_days").input_value() == "30"
    screenshot(page, f"settings-surveys-{width}")
    page.locator(".subnav a:has-text('Critérios do CHI')").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#chi-new").is_visible()
    screenshot(page, f"settings-chi-{width}")


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_an_admin_retires_a_churn_category_and_offers_it_again(page, login_page, org, width, height):
    page.set_viewport_size({"width": width, "height": height})
    login_page(page, org.admin)
    category = ChurnReason.objects.get(code="seasonal").category

    page.goto(f"{page.base_url}/settings/churn-reasons/")
    section = page.locator(f"#category-{category.pk}")
    section.locator("button:has-text('Desativar a categoria')").click()
    page.wait_for_load_state("networkidle")

    # the category stays, marked, with what retiring it affects and the button that offers it again
    section = page.locator(f"#category-{category.pk}")
    assert "Desativada" in section.locator("h2").inner_text()
    assert "deixam de oferecer seus motivos" in section.inner_text()
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(ARTIFACTS / f"settings-category-retired-{width}.png"))
    category.refresh_from_db()
    assert not category.active

    section.locator("button:has-text('Oferecer a categoria de novo')").click()
    page.wait_for_load_state("networkidle")
    category.refresh_from_db()
    assert category.active
