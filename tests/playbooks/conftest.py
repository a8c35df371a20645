import pytest


@pytest.fixture(autouse=True)
def no_default_playbooks(request):
    """The default playbooks (installed by a data migration) stay out of the way of each test's own."""
    if request.node.get_closest_marker("django_db") is None and "db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db" if "live_server" in request.fixturenames else "db")
    from playbooks.models import Playbook

    Playbook.objects.filter(key__isnull=False).delete()
