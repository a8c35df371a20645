"""Playbook steps advanced by a real Celery worker on Redis, the first worker killed in the middle of the
job: the next run of the job finishes every run, and no step runs twice, so no task is created twice."""

import time
from collections import Counter

import pytest

from playbooks import engine, tasks
from playbooks.models import Run, RunStatus, RunStep
from portfolio.models import Task
from tests.playbooks.factories import live_playbook, task_step
from tests.portfolio.factories import CustomerFactory
from tests.waiting import wait_until

CUSTOMERS = 200
STEPS = 3


def playbook_tasks() -> int:
    return Task.objects.filter(origin="playbook").count()


@pytest.mark.worker
def test_a_worker_killed_mid_advance_leaves_no_task_created_twice(org, celery_worker_process):
    # given 200 customers enrolled in a playbook of three task steps, none run yet
    playbook = live_playbook(steps=[task_step(f"Passo {n}") for n in range(STEPS)])
    for customer in CustomerFactory.create_batch(CUSTOMERS, owner=org.csm_a):
        assert engine.enrol(playbook=playbook, customer_id=customer.pk) is not None
    total = CUSTOMERS * STEPS

    # when a worker advances them and is killed part of the way through
    first = celery_worker_process()
    tasks.runs_advance.delay()
    assert wait_until(lambda: playbook_tasks() >= 30, timeout=120)
    first.kill()
    first.wait(10)
    before = playbook_tasks()
    assert before < total

    # and a new worker takes the beat's next advance (twice, as a late copy would)
    celery_worker_process()
    tasks.runs_advance.delay()
    tasks.runs_advance.delay()

    # then every step ran exactly once and every task exists once
    # (generous: on a loaded 2-CPU machine a step takes up to a tenth of a second)
    assert wait_until(lambda: Run.objects.filter(status=RunStatus.COMPLETED).count() == CUSTOMERS, timeout=300)
    time.sleep(0.5)  # room for the second copy of the job to (not) do anything
    assert playbook_tasks() == total
    assert RunStep.objects.count() == total
    per_run = Counter(RunStep.objects.values_list("run_id", flat=True))
    assert set(per_run.values()) == {STEPS}
    keys = list(Task.objects.filter(origin="playbook").values_list("origin_key", flat=True))
    assert len(set(keys)) == total
    assert set(RunStep.objects.values_list("outcome", flat=True)) == {"task_created"}
