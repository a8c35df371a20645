"""An admin moves a CSM to another team, is refused demoting themselves (the last admin), and deactivates a CSM
whose customer then waits for a new owner: on a desktop and on a phone."""

import pytest

from accounts.models import Role
from tests.conftest import screenshot
from tests.portfolio.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_an_admin_moves_and_deactivates_people(page, login_page, org, width, height):
    CustomerFactory(owner=org.csm_a2, name="Farmácias Vida Nova")
    page.set_viewport_size({"width": width, "height": height})
    login_page(page, org.admin)

    # from the Settings overview to Teams and people
    page.goto(f"{page.base_url}/settings/")
    page.locator(".settings-sections a:has-text('Times e pessoas')").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, f"people-page-{width}")

    # Lucas moves to the SMB team
    page.locator(f"#person-{org.csm_a.pk}-team").select_option(label="Time SMB")
    page.locator(f"#person-form-{org.csm_a.pk} button").click()
    page.wait_for_load_state("networkidle")
    assert "Lucas Almeida" in page.locator(".message.success").first.inner_text()
    history = page.locator("#settings-history")
    assert "o líder da nova equipe passa a vê-los" in history.inner_text()
    org.csm_a.refresh_from_db()
    assert org.csm_a.team == org.team_b

    # the only admin cannot give themselves another role: the page says why
    page.locator(f"#person-{org.admin.pk}-role").select_option(Role.CSM)
    page.locator(f"#person-form-{org.admin.pk} button").click()
    page.wait_for_load_state("networkidle")
    error = page.locator("#people-errors")
    assert "último admin" in error.inner_text()
    screenshot(page, f"people-last-admin-{width}")

    # Beatriz is deactivated; her customer stays hers and waits for a new owner
    page.locator(f"#person-{org.csm_a2.pk} button:has-text('Desativar')").click()
    page.wait_for_load_state("networkidle")
    waiting = page.locator(".people-needing-owner")
    assert "Farmácias Vida Nova" in waiting.inner_text()
    assert "Beatriz Santos" in waiting.inner_text()
    waiting.scroll_into_view_if_needed()
    screenshot(page, f"people-deactivated-{width}")
    org.csm_a2.refresh_from_db()
    assert not org.csm_a2.is_active
