import pytest

TRANSACTIONAL = {"transactional_db", "live_server", "celery_worker_process"}


@pytest.fixture(autouse=True)
def no_default_playbooks(request):
    """The default playbooks (installed by a data migration) stay out of the way of each test's own."""
    uses_db = request.node.get_closest_marker("django_db") or "db" in request.fixturenames
    if not uses_db and not TRANSACTIONAL & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if TRANSACTIONAL & set(request.fixturenames) else "db")
    from playbooks.models import Playbook

    Playbook.objects.filter(key__isnull=False).delete()
