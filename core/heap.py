"""The interpreter's collector in Leme's long-running processes.

CPython's full collection walks every container object the process holds. A Django process of Leme holds about
170,000 of them once its pages have been served (modules, classes, functions, the URL patterns, compiled
templates, translation catalogues, the prepared queries), nearly all of them alive until the process ends; walking
them takes 50–70 ms on the machines Leme was measured on, and one request in twenty or so pays it. Frozen objects
(:func:`gc.freeze`) are left out of every later collection, so a full collection then walks only what requests
leave behind.

``config/gunicorn.py`` freezes what the master loaded before it forks its workers, and each worker freezes again
once it has served its first requests (what those build and keep: the compiled templates, the catalogues, the
prepared queries). A frozen object is never collected; :func:`freeze` collects first, so only what is alive then
is kept for good.
"""

import gc


def freeze() -> int:
    """Collect the garbage there is, then move every object still alive out of the collector's way. Returns how
    many objects are frozen in all (those of earlier freezes included)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
