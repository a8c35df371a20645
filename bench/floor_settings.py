"""The answer benchmark's settings: Leme's local settings (what ``bench/survey_answers.py`` serves, with DEBUG off
from its environment) and one more URL, ``/bench/floor/`` (``bench/floor_urls.py``), the smallest Django view.

The benchmark's gunicorn serves Leme's answer pages and that view from the same WSGI app (``config.wsgi``), the same
middleware and the same workers, so the view's rate is the floor the answer flow is compared with. Leme's own
URLs (``config.urls``) never have it: only a process started with these settings does.
"""

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
