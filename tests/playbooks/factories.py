"""Playbooks for tests, made and published through the services (as a leader or admin would)."""

from playbooks import services
from playbooks.models import Playbook


def task_step(title="Ligar para o sponsor", assignee="owner", due_days=2, description=""):
    return {"kind": "task", "title": title, "description": description, "assignee": assignee, "due_days": due_days}


def live_playbook(
    *, name="Resgate", team=None, trigger_kind="manual", trigger_params=None, steps=None, **kw
) -> Playbook:
    """An active playbook with a published first version."""
    playbook = services.playbook_create(
        name=name,
        actor=None,
        team=team,
        trigger_kind=trigger_kind,
        trigger_params=trigger_params or {},
        steps=steps if steps is not None else [task_step()],
        **kw,
    )
    services.version_publish(playbook=playbook, actor=None)
    playbook.refresh_from_db()
    return playbook
