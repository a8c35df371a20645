"""Gunicorn's settings for Leme's web processes: ``gunicorn -c config/gunicorn.py config.wsgi``.

Environment: ``PORT`` (8000), ``WEB_CONCURRENCY`` (worker processes, 3), ``LEME_GC_FREEZE_AFTER`` (the requests
a worker serves before it freezes what it keeps, 20; 0 never).

The application is loaded once in the master (``preload_app``) and its objects frozen before each fork
(``core.heap``): the workers share those pages of memory with the master, and the interpreter's full collections
in a worker no longer walk them (50–70 ms each on a loaded Django process: the one slow request in twenty).
A worker freezes again after its first requests, once its templates, catalogues and prepared queries are built.
Code is therefore loaded at start: a deploy restarts the master (``HUP`` reloads the settings, not the code).
"""

import os

from core import heap

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"
preload_app = True

FREEZE_AFTER = int(os.environ.get("LEME_GC_FREEZE_AFTER", "20"))


def pre_fork(server, worker) -> None:
    frozen = heap.freeze()
    server.log.info("Froze %s long-lived objects of the loaded application before forking a worker", frozen)


def pre_request(worker, req) -> None:
    # Before the next request rather than after the last: what that request held is gone by then, not kept for good.
    if FREEZE_AFTER and worker.nr == FREEZE_AFTER:  # worker.nr: the requests it has served
        frozen = heap.freeze()
        worker.log.info("Worker %s froze %s long-lived objects after %s requests", worker.pid, frozen, FREEZE_AFTER)
