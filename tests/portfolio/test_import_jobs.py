"""A confirmed import of more than ``JOB_ROWS`` rows is written by a background job: the page follows its
progress (htmx asks again every second) and then shows its result — the counts, or the rows to fix, nothing
written. (Tasks run in-process here; the job is queued once the confirmation commits.)"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portfolio import imports, tasks
from portfolio.import_jobs import import_job_start
from portfolio.models import Customer, ImportJob, ImportJobStatus
from tests.portfolio.factories import ImportJobFactory
from tests.portfolio.test_imports import customers_csv

pytestmark = pytest.mark.django_db

BAD_ROW = "external_id;name;segment\nc-1;Padaria Pão Dourado;enorme\nc-2;Clínica Bem Viver;smb\n"


@pytest.fixture
def small_threshold(monkeypatch):
    """Two rows make a large import here, so the tests stay small."""
    monkeypatch.setattr("portfolio.import_flow.JOB_ROWS", 1)


def test_a_large_confirmed_import_runs_as_a_job_and_its_page_shows_the_result(
    org, client_for, committed, small_threshold
):
    # given a leader's checked file of more rows than a request writes
    client = client_for(org.leader_a)
    upload = SimpleUploadedFile("clientes.csv", customers_csv(org).encode("utf-8"), content_type="text/csv")
    assert client.post("/portfolio/import/", {"kind": "customers", "file": upload}).status_code == 200

    # when they confirm it
    with committed():
        confirmed = client.post("/portfolio/import/", {"confirm": "1"})

    # then a job wrote every row, and the page they are sent to says so
    job = ImportJob.objects.get()
    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"/portfolio/import/jobs/{job.pk}/"
    assert (job.actor, job.rows, job.status) == (org.leader_a, 2, ImportJobStatus.DONE)
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"c-1", "c-2"}
    page = client.get(confirmed["Location"])
    assert "Importação concluída: 2 criados, 0 atualizados, 0 sem alteração." in page.text
    assert "every 1s" not in page.text
    # the file is no longer kept: confirming again imports nothing more
    assert client.post("/portfolio/import/", {"confirm": "1"}).status_code == 302
    assert ImportJob.objects.count() == 1


def test_a_small_import_is_still_written_by_the_request(org, client_for):
    client = client_for(org.leader_a)
    upload = SimpleUploadedFile("clientes.csv", customers_csv(org).encode("utf-8"), content_type="text/csv")
    client.post("/portfolio/import/", {"kind": "customers", "file": upload})

    done = client.post("/portfolio/import/", {"confirm": "1"})

    assert done["Location"] == "/portfolio/import/"
    assert Customer.objects.count() == 2
    assert not ImportJob.objects.exists()


def test_the_job_page_asks_again_every_second_while_the_rows_are_written(org, client_for):
    # given a job of 100 rows whose worker has checked 50 (of 200 steps: each row checked, then written)
    job = ImportJobFactory(actor=org.leader_a, rows=100, status=ImportJobStatus.RUNNING, result={})
    cache.set(imports.progress_key(job.pk), 50)
    client = client_for(org.leader_a)

    # when the page asks, as htmx does
    fragment = client.get(f"/portfolio/import/jobs/{job.pk}/", headers={"HX-Request": "true"})

    # then it answers only its status part, with the progress and the next poll
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'hx-trigger="every 1s"' in fragment.text
    assert 'value="25"' in fragment.text
    assert fragment["Vary"] == "HX-Request" or "HX-Request" in fragment["Vary"]
    # and once the job ends, the part it swaps in stops asking
    job.status, job.result = ImportJobStatus.DONE, {"counts": {"create": 100, "update": 0, "unchanged": 0}}
    job.save()
    ended = client.get(f"/portfolio/import/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert "hx-trigger" not in ended.text
    assert "Importação concluída: 100 criados" in ended.text


def test_a_job_with_a_row_that_cannot_be_written_writes_none_and_lists_the_rows_to_fix(org, client_for, committed):
    with committed():
        job = import_job_start(kind="customers", text=BAD_ROW, rows=2, actor=org.leader_a)

    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED
    assert [row["line"] for row in job.result["rows"]] == [2]
    assert not Customer.objects.exists()
    page = client_for(org.leader_a).get(f"/portfolio/import/jobs/{job.pk}/")
    assert "Nada foi importado" in page.text
    assert "enorme" in page.text


def test_a_job_run_twice_writes_its_rows_once(org):
    job = import_job_start(kind="customers", text=customers_csv(org), rows=2, actor=org.leader_a)

    imports.import_job_run(job_id=job.pk)
    first = ImportJob.objects.get().result
    imports.import_job_run(job_id=job.pk)

    assert Customer.objects.count() == 2
    assert ImportJob.objects.get().result == first == {"counts": {"create": 2, "update": 0, "unchanged": 0}}


def test_only_who_may_import_starts_a_job(org):
    with pytest.raises(imports.PermissionDenied):
        import_job_start(kind="customers", text=customers_csv(org), rows=2, actor=org.csm_a)
    assert not ImportJob.objects.exists()


# --- A worker that dies mid-import ------------------------------------------------------------------------


def stuck(job: ImportJob, *, minutes: int, status: str = ImportJobStatus.RUNNING) -> ImportJob:
    """``job`` as a worker that died ``minutes`` ago left it: marked running (or still queued), nothing written."""
    ImportJob.objects.filter(pk=job.pk).update(status=status, status_at=timezone.now() - timedelta(minutes=minutes))
    job.refresh_from_db()
    return job


def test_a_job_whose_worker_died_is_run_again_and_written(org, client_for):
    # given a job whose worker died 20 minutes ago, mid-import (its transaction rolled back: nothing written)
    job = stuck(import_job_start(kind="customers", text=customers_csv(org), rows=2, actor=org.leader_a), minutes=20)
    assert not Customer.objects.exists()

    # when the beat's recovery runs (tasks run in-process here: the job it queues again runs at once)
    assert tasks.import_jobs_recover() == 1

    # then the second attempt wrote every row, and the page shows the counts
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportJobStatus.DONE, 2)
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"c-1", "c-2"}
    assert "Importação concluída: 2 criados" in client_for(org.leader_a).get(f"/portfolio/import/jobs/{job.pk}/").text


def test_a_stuck_job_is_queued_again_once_then_failed_and_its_page_stops_asking(org, client_for):
    # given a job whose worker died 20 minutes ago
    job = stuck(import_job_start(kind="customers", text=customers_csv(org), rows=2, actor=org.leader_a), minutes=20)
    cache.set(imports.progress_key(job.pk), 50)

    # when the recovery runs, and again 20 minutes later with the job still not started (its worker died too)
    first = imports.import_jobs_recover()
    job.refresh_from_db()
    assert (first, job.status, job.attempts) == ([job.pk], ImportJobStatus.QUEUED, 2)
    again = imports.import_jobs_recover(now=timezone.now() + timedelta(minutes=20))

    # then it is failed, not queued a third time, and nothing was written
    job.refresh_from_db()
    assert again == []
    assert (job.status, job.attempts, job.result) == (ImportJobStatus.FAILED, 2, {"stopped": True})
    assert job.finished_at is not None
    assert cache.get(imports.progress_key(job.pk)) is None
    assert not Customer.objects.exists()
    # and the page says so in the person's language, without asking again
    fragment = client_for(org.leader_a).get(f"/portfolio/import/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert "A importação parou antes de terminar: nada foi gravado." in fragment.text
    assert "hx-trigger" not in fragment.text
    org.leader_a.language = "en"
    org.leader_a.save(update_fields=["language"])
    page = client_for(org.leader_a).get(f"/portfolio/import/jobs/{job.pk}/")
    assert "The import stopped before finishing: nothing was written." in page.text
    assert 'href="/portfolio/import/"' in page.text


def test_jobs_within_the_limit_or_still_telling_their_progress_are_left_alone(org):
    # given a job started 5 minutes ago, one started 40 minutes ago whose worker told its progress a minute ago,
    # one queued 5 minutes ago, and one finished long ago
    recent = stuck(ImportJobFactory(actor=org.leader_a, rows=100, result={}), minutes=5)
    long = stuck(ImportJobFactory(actor=org.leader_a, rows=9000, result={}), minutes=40)
    cache.set(imports.heartbeat_key(long.pk), (timezone.now() - timedelta(minutes=1)).timestamp())
    waiting = stuck(ImportJobFactory(actor=org.leader_a, result={}), minutes=5, status=ImportJobStatus.QUEUED)
    done = stuck(ImportJobFactory(actor=org.leader_a), minutes=60, status=ImportJobStatus.DONE)

    # when the recovery runs
    assert imports.import_jobs_recover() == []

    # then none changed
    for job in (recent, long, waiting, done):
        before = (job.status, job.attempts, job.status_at)
        job.refresh_from_db()
        assert (job.status, job.attempts, job.status_at) == before


def test_a_run_the_recovery_gave_up_on_writes_nothing(org, monkeypatch):
    # given a job whose worker is so slow to write that the beat's recovery queues the job again meanwhile (here:
    # as the run, started, takes its progress key, just before the transaction that writes the rows)
    job = import_job_start(kind="customers", text=customers_csv(org), rows=2, actor=org.leader_a)
    real_key, recovered = imports.progress_key, []

    def overtaken(job_id: int) -> str:
        if not recovered:
            recovered.extend(imports.import_jobs_recover(now=timezone.now() + timedelta(hours=1)))
        return real_key(job_id)

    monkeypatch.setattr(imports, "progress_key", overtaken)

    # when the slow run ends
    imports.import_job_run(job_id=job.pk)

    # then its rows went back with its transaction: the job waits for its second attempt, which writes them
    job.refresh_from_db()
    assert recovered == [job.pk]
    assert (job.status, job.attempts) == (ImportJobStatus.QUEUED, 2)
    assert not Customer.objects.exists()
    monkeypatch.setattr(imports, "progress_key", real_key)
    imports.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, Customer.objects.count()) == (ImportJobStatus.DONE, 2)
