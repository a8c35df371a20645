import importlib

import pytest


@pytest.fixture(autouse=True)
def default_health_profiles(request):
    """The default health profiles come from a data migration; a transactional test (the browser's) empties
    every table when it ends. Put them back for the tests that use the database."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db", "live_server"} & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if marker and marker.kwargs.get("transaction") else "db")
    from django.apps import apps

    importlib.import_module("health.migrations.0003_default_profiles").create(apps, None)
