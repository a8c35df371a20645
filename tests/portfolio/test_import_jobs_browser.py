"""A leader follows a large import's progress in a real browser: the bar fills as the job reports, and the
result takes its place when the job ends, without reloading; on a phone, the rows to fix of a failed one."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from portfolio import imports
from portfolio.models import ImportJobStatus
from tests.conftest import screenshot
from tests.portfolio.factories import ImportJobFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_import_page_follows_the_job_then_shows_its_result(page, login_page, org):
    # given a leader's import of 1,200 rows, a quarter of the way through
    job = ImportJobFactory(actor=org.leader_a, rows=1200, status=ImportJobStatus.RUNNING, result={})
    cache.set(imports.progress_key(job.pk), 600)
    login_page(page, org.leader_a)

    # when they open its page
    page.goto(f"{page.base_url}/portfolio/import/jobs/{job.pk}/")

    # then the bar shows how far it got
    expect(page.locator("#job-progress")).to_have_attribute("value", "25")
    expect(page.get_by_text("25% concluído")).to_be_visible()
    screenshot(page, "import-job-running-desktop")

    # when the job ends, the page shows the result by itself
    job.status, job.result = ImportJobStatus.DONE, {"counts": {"create": 1150, "update": 50, "unchanged": 0}}
    job.save()
    expect(page.get_by_text("Importação concluída: 1150 criados, 50 atualizados, 0 sem alteração.")).to_be_visible()
    expect(page.locator("#job-progress")).to_have_count(0)
    screenshot(page, "import-job-done-desktop")

    # and on a phone, a failed job lists the rows to fix
    failed = ImportJobFactory(
        actor=org.leader_a,
        rows=800,
        status=ImportJobStatus.FAILED,
        result={"errors": [], "rows": [{"line": 412, "key": "c-411", "errors": ["segment: enorme não é válido."]}]},
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base_url}/portfolio/import/jobs/{failed.pk}/")
    expect(page.get_by_text("Nada foi importado")).to_be_visible()
    expect(page.get_by_text("segment: enorme não é válido.")).to_be_visible()
    screenshot(page, "import-job-failed-phone")

    # and one whose worker died, given up on by the beat, says so and offers to upload it again
    stopped = ImportJobFactory(actor=org.leader_a, rows=800, status=ImportJobStatus.FAILED, result={"stopped": True})
    page.goto(f"{page.base_url}/portfolio/import/jobs/{stopped.pk}/")
    expect(page.get_by_role("alert")).to_have_text(
        "A importação parou antes de terminar: nada foi gravado. Envie o arquivo de novo para tentar outra vez."
    )
    expect(page.get_by_role("link", name="Enviar o arquivo de novo")).to_be_visible()
    screenshot(page, "import-job-stopped-phone")
