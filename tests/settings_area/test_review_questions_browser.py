"""An admin edits the success-review questions on the Settings page, on a desktop and on a phone: a question
without its English is refused beside the field, then added; an answered question is retired, still listed."""

import pytest

from portfolio.models import ReviewTemplateQuestion
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_an_admin_adds_a_question_and_retires_one(page, login_page, org, width, height):
    page.set_viewport_size({"width": width, "height": height})
    login_page(page, org.admin)
    page.goto(f"{page.base_url}/settings/")
    page.locator(".settings-sections a h2:text-is('Revisões de sucesso')").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, f"settings-reviews-{width}")

    # a new question without its English is refused beside the field, what was typed kept
    page.select_option("#id_part", "future")
    page.fill("#id_text_pt", "Qual NPS queremos no próximo ciclo?")
    page.locator("#new-question-h ~ form button[type=submit]").click()
    error = page.locator("#id_text_en_error")
    error.wait_for()
    assert "inglês" in error.inner_text()
    error.scroll_into_view_if_needed()
    screenshot(page, f"settings-reviews-error-{width}")
    page.fill("#id_text_en", "Which NPS do we aim for next cycle?")
    page.locator("#new-question-h ~ form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    added = ReviewTemplateQuestion.objects.get(text_en="Which NPS do we aim for next cycle?")
    assert "Qual NPS queremos no próximo ciclo?" in page.locator(f"#question-{added.pk}").inner_text()

    # "What got in the way?" is retired: still listed, marked, and the history says what that affects
    obstacles = ReviewTemplateQuestion.objects.get(key="obstacles")
    page.locator(f"#question-{obstacles.pk} button:has-text('Desativar')").click()
    page.wait_for_load_state("networkidle")
    row = page.locator(f"#question-{obstacles.pk}")
    assert "Desativado" in row.inner_text()
    assert "Aplica-se às revisões realizadas a partir de agora" in page.locator("#settings-history").inner_text()
    screenshot(page, f"settings-reviews-retired-{width}")
    obstacles.refresh_from_db()
    assert not obstacles.active
