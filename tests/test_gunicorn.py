"""Leme's web server settings (config/gunicorn.py), run as production runs them: a real gunicorn."""

import gc
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from config import gunicorn as web_settings
from core import heap

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> int:
    deadline = time.monotonic() + 60
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", path)
            return connection.getresponse().status
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        finally:
            connection.close()


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_freeze_collects_first_then_keeps_what_is_alive(unfrozen):
    gc.unfreeze()

    class Node:
        pass

    garbage = Node()
    garbage.cycle = garbage
    alive = Node()
    del garbage
    frozen = heap.freeze()
    assert frozen == gc.get_freeze_count() > 0
    assert gc.get_count()[0] < 10  # the collection ran just before the freeze
    assert not any(type(o) is Node and o is not alive for o in gc.get_objects())  # the cycle was collected


def test_a_worker_freezes_once_before_the_request_after_its_first_ones(unfrozen, monkeypatch):
    gc.unfreeze()
    logged = []
    worker = SimpleNamespace(pid=1, nr=0, log=SimpleNamespace(info=lambda *args: logged.append(args)))
    monkeypatch.setattr(web_settings, "FREEZE_AFTER", 3)
    for served in range(3):  # gunicorn counts a request in worker.nr after calling pre_request
        worker.nr = served
        web_settings.pre_request(worker, None)
    assert gc.get_freeze_count() == 0
    worker.nr = 3
    web_settings.pre_request(worker, None)  # the fourth request, after three served
    assert gc.get_freeze_count() > 0
    assert len(logged) == 1
    gc.unfreeze()
    worker.nr = 4
    web_settings.pre_request(worker, None)
    assert gc.get_freeze_count() == 0
    assert len(logged) == 1


def test_a_worker_never_freezes_when_told_not_to(unfrozen, monkeypatch):
    gc.unfreeze()
    worker = SimpleNamespace(pid=1, nr=0, log=SimpleNamespace(info=lambda *args: None))
    monkeypatch.setattr(web_settings, "FREEZE_AFTER", 0)
    for served in range(3):
        worker.nr = served
        web_settings.pre_request(worker, None)
    assert gc.get_freeze_count() == 0


def test_gunicorn_serves_leme_with_its_settings_and_freezes_the_loaded_app():
    port = _free_port()
    env = {**os.environ, "LEME_GC_FREEZE_AFTER": "3", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-"]
    server = subprocess.Popen(  # noqa: S603 - gunicorn with fixed arguments
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        statuses = [_get(port, "/login/") for _ in range(4)]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert statuses == [200, 200, 200, 200], output
    lines = output.splitlines()
    # The master loaded Django and all of Leme's apps before forking, and froze them: a worker inherits them.
    before_fork = [line for line in lines if "of the loaded application before forking a worker" in line]
    assert len(before_fork) == 1, output
    assert int(before_fork[0].split("Froze ")[1].split()[0]) > 50_000, before_fork[0]
    # The worker froze once more before its fourth request, what it built serving the first three included.
    after_requests = [line for line in lines if "long-lived objects after 3 requests" in line]
    assert len(after_requests) == 1, output
