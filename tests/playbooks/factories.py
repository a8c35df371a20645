"""Playbooks for tests, made and published through the services (as a leader or admin would)."""

from playbooks import services
from playbooks.models import Playbook


def task_step(title="Ligar para o sponsor", assignee="owner", due_days=2, description=""):
    return {"kind": "task", "title": title, "description": description, "assignee": assignee, "due_days": due_days}


def email_step(template="Boas-vindas", contact_role="user", **texts):
    """An email step with a Portuguese and an English text (override any of ``subject_pt``, ``body_pt``,
    ``subject_en``, ``body_en``)."""
    return {
        "kind": "email",
        "template": template,
        "contact_role": contact_role,
        "subject_pt": "Novidades para a {{ customer.name }}",
        "body_pt": 'Olá, {{ contact.first_name|default:"tudo bem" }}!\n\nAbraço,\n{{ csm.name|default:"Equipe" }}',
        "subject_en": "News for {{ customer.name }}",
        "body_en": 'Hi {{ contact.first_name|default:"there" }},\n\nBest,\n{{ csm.name|default:"The team" }}',
        **texts,
    }


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
