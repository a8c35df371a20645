"""The playbooks Leme ships: common plays, written in the workspace's language, each with a published first
version. Installed by a data migration (with historical models) and by ``manage.py playbooks_defaults``.

"Renewal in 90 days" and "Back to green" are active from the start. "Onboarding kickoff", "Detractor
recovery" and "UTI recovery month" are installed ready but not active: the detractor call-back and the UTI
check-ins are still created by the built-in subscribers (surveys' ``detractor_task``, portfolio's
``uti_plan``), so turning these on as well would give the CSM a second task for the same thing; and a
kickoff task on every new customer is a team's choice to make. A leader or an admin activates them with one
click.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _


def _task(title: str, assignee: str, due_days: int, description: str = "") -> dict:
    return {"kind": "task", "title": title, "description": description, "assignee": assignee, "due_days": due_days}


def default_playbooks() -> list[dict]:
    """The default playbooks, in the active language."""
    return [
        {
            "key": "onboarding-kickoff",
            "name": _("Onboarding kickoff"),
            "description": _("A new customer's first two weeks: kickoff call, goals agreed, first check-in."),
            "active": False,
            "trigger_kind": "customer_created",
            "exit_goal": "onboarding_done",
            "steps": [
                _task(_("Kickoff call: agree goals and the first value milestone"), "ism", 2),
                {"kind": "email", "template": _("Welcome and next steps"), "contact_role": "decision_maker"},
                {"kind": "wait", "days": 7},
                _task(_("First week check-in: is the set-up on track?"), "ism", 1),
            ],
        },
        {
            "key": "renewal-90",
            "name": _("Renewal in 90 days"),
            "description": _("Prepare the renewal 90, 60 and 30 days ahead."),
            "active": True,
            "trigger_kind": "renewal_in",
            "trigger_params": {"days": 90},
            "exit_goal": "renewed",
            "steps": [
                _task(_("Renewal in 90 days: review usage, value delivered and risks"), "owner", 5),
                {"kind": "wait", "days": 30},
                _task(_("Renewal in 60 days: present the value review and the proposal"), "owner", 5),
                {"kind": "wait", "days": 30},
                _task(_("Renewal in 30 days: confirm the decision and the paperwork"), "owner", 3),
            ],
        },
        {
            "key": "back-to-green",
            "name": _("Back to green"),
            "description": _("Rescue a customer whose health went red."),
            "active": True,
            "trigger_kind": "health_band_changed",
            "trigger_params": {"band": "red"},
            "exit_goal": "back_to_green",
            "steps": [
                _task(_("Health went red: find out why and call the sponsor"), "owner", 2),
                _task(_("Health went red: agree a rescue plan with the CSM"), "leader", 3),
                {"kind": "wait", "days": 14},
                {"kind": "condition", "check": "still_red"},
                _task(_("Still red after two weeks: escalate with an executive sponsor"), "leader", 2),
            ],
        },
        {
            "key": "detractor-recovery",
            "name": _("Detractor recovery"),
            "description": _("Call a detractor back within two business days and close the loop."),
            "active": False,
            "trigger_kind": "detractor_answered",
            "exit_goal": "touch_logged",
            "steps": [
                _task(_("Call the detractor back and understand the score"), "owner", 2),
                {"kind": "wait", "days": 7},
                {"kind": "condition", "check": "no_touch"},
                _task(_("No touch logged a week after the detractor's answer: call now"), "leader", 1),
            ],
        },
        {
            "key": "uti-recovery-month",
            "name": _("UTI recovery month"),
            "description": _("A saved customer's recovery month: weekly check-ins and a closing review."),
            "active": False,
            "trigger_kind": "uti_entered",
            "exit_goal": "uti_left",
            "steps": [
                *[
                    step
                    for week in (1, 2, 3)
                    for step in (
                        {"kind": "wait", "days": 7},
                        _task(_("UTI: weekly check-in call (%(n)s/3)") % {"n": week}, "owner", 0),
                    )
                ],
                {"kind": "wait", "days": 7},
                _task(_("UTI: closing review — decide the exit"), "owner", 0),
            ],
        },
    ]


def install_defaults(playbook_model, version_model, now) -> int:
    """Create the default playbooks that are missing (by ``key``); returns how many were created."""
    created = 0
    with translation.override(settings.LANGUAGE_CODE):
        for spec in default_playbooks():
            if playbook_model.objects.filter(key=spec["key"]).exists():
                continue
            playbook = playbook_model.objects.create(
                key=spec["key"],
                name=spec["name"],
                description=spec["description"],
                status="active" if spec["active"] else "draft",
            )
            version = version_model.objects.create(
                playbook=playbook,
                number=1,
                trigger_kind=spec["trigger_kind"],
                trigger_params=spec.get("trigger_params", {}),
                exit_goal=spec.get("exit_goal", ""),
                steps=spec["steps"],
                published_at=now,
            )
            playbook.live_version = version
            playbook.save(update_fields=["live_version"])
            created += 1
    return created
