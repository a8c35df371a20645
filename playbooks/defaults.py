"""The playbooks Leme ships: common plays, written in the workspace's language, each with a published first
version. Installed by a data migration (with historical models) and by ``manage.py playbooks_defaults``.

"Renewal in 90 days", "Back to green", "Detractor recovery", "UTI recovery month", "Churn request" and
"Overdue payment" are active from the start. The last four ARE Leme's detractor call-back, UTI plan,
churn-request task and overdue-payment follow-up (no other code creates those tasks any more): a team that
pauses or deletes one stops getting its tasks, which the playbook's page says. They have
no cool-down (every detractor answer, every save gets its play) but, as any playbook, one run per customer
at a time: a second detractor at a customer whose run is still open adds no second task (its answer still
shows on the survey pages, and a touch with that contact still closes its loop). "Onboarding kickoff" is
installed ready but not active: a kickoff task on every new customer is a team's choice to make. A leader or
an admin activates it with one click.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

WELCOME_PT = """Olá, {{ contact.first_name|default:"tudo bem" }}!

Que bom ter a {{ customer.name }} com a gente. Nas próximas duas semanas vamos combinar os objetivos da
implantação e o primeiro resultado que vocês querem ver, e acompanhar a configuração de perto.

Qualquer dúvida, é só responder a este email: ele chega direto para mim.

{{ csm.name|default:"Equipe de Customer Success" }}"""

WELCOME_EN = """Hello {{ contact.first_name|default:"there" }},

We are glad to have {{ customer.name }} on board. Over the next two weeks we will agree on the goals of the
set-up and the first result you want to see, and follow the configuration closely.

Any question, just reply to this email: it comes straight to me.

{{ csm.name|default:"The Customer Success team" }}"""


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
                {
                    "kind": "email",
                    "template": _("Welcome and next steps"),
                    "contact_role": "decision_maker",
                    # Both languages are carried by the step; each contact gets theirs (playbooks.emails).
                    "subject_pt": "{{ customer.name }}: boas-vindas e próximos passos",
                    "body_pt": WELCOME_PT,
                    "subject_en": "{{ customer.name }}: welcome and next steps",
                    "body_en": WELCOME_EN,
                },
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
            "active": True,
            "cooldown_days": 0,
            "trigger_kind": "detractor_answered",
            "exit_goal": "",
            "steps": [
                {
                    **_task(
                        _(
                            "Call back {{ contact.name }} ({{ customer.name }}): "
                            "{{ answer.survey }} {{ answer.score }}, detractor"
                        ),
                        "owner",
                        2,
                        "{{ answer.comment }}",
                    ),
                    "due_from": "trigger",
                },
                {"kind": "wait", "days": 7},
                {"kind": "condition", "check": "loop_open"},
                _task(_("The detractor's loop is still open a week after the answer: call now"), "leader", 1),
            ],
        },
        {
            "key": "uti-recovery-month",
            "name": _("UTI recovery month"),
            "description": _(
                "A saved customer's recovery month: weekly check-ins and a closing review on its last day, dated "
                "from the day of the save."
            ),
            "active": True,
            "cooldown_days": 0,
            "trigger_kind": "uti_entered",
            "exit_goal": "uti_left",
            "steps": [
                *[
                    {
                        **_task(
                            _("UTI: weekly check-in call with {{ customer.name }} (%(n)s/3)") % {"n": week},
                            "owner",
                            7 * week,
                        ),
                        "due_from": "trigger",
                        "due_unit": "days",
                    }
                    for week in (1, 2, 3)
                ],
                {
                    **_task(_("UTI: closing review with {{ customer.name }} — decide the exit"), "owner", 0),
                    "due_from": "trigger_end",
                    "due_unit": "days",
                },
                # The run stays with the customer a little past the month, so leaving UTI then still cancels
                # what is open.
                {"kind": "wait", "until": "trigger_end", "days": 14},
            ],
        },
        {
            "key": "churn-request",
            "name": _("Churn request"),
            "description": _(
                "The customer's CSM works a churn request the day it is opened; closing the request (saved or "
                "churned) completes the task."
            ),
            "active": True,
            "cooldown_days": 0,
            "trigger_kind": "churn_request_opened",
            "exit_goal": "churn_request_closed",
            "steps": [_task(_("Work the churn request of {{ customer.name }}"), "owner", 0)],
        },
        {
            "key": "overdue-payment",
            "name": _("Overdue payment"),
            "description": _(
                "The customer's CSM follows up an overdue payment the next day, while it is still overdue."
            ),
            "active": True,
            "cooldown_days": 0,
            "trigger_kind": "delinquency_started",
            "exit_goal": "",
            "steps": [
                {"kind": "condition", "check": "payment_overdue"},
                {
                    **_task(_("Follow up the overdue payment of {{ customer.name }}"), "owner", 1),
                    "due_unit": "days",
                },
            ],
        },
    ]


# The defaults that replaced a built-in rule, and so had to become active where they were installed inactive;
# their page says what switching them off does.
TAKEN_OVER = ("detractor-recovery", "uti-recovery-month")
# The defaults that replaced a built-in rule from the start: installed active where they were missing.
INSTALLED_ACTIVE = ("churn-request", "overdue-payment")
REPLACES = {
    "detractor-recovery": gettext_lazy(
        "This playbook is Leme's detractor call-back: while it is active, every detractor answer gets a follow-up "
        "task for the customer's CSM, completed when a touch with that contact closes the loop. Paused or "
        "deleted, detractor answers create no task."
    ),
    "uti-recovery-month": gettext_lazy(
        "This playbook is Leme's UTI plan: while it is active, every saved customer gets its weekly check-ins "
        "and the closing review, cancelled when it leaves UTI. Paused or deleted, a save creates no task."
    ),
    "churn-request": gettext_lazy(
        "This playbook is Leme's churn-request task: while it is active, every churn request opened gives the "
        "customer's CSM a task due that day, completed when the request is closed. Paused or deleted, a churn "
        "request creates no task."
    ),
    "overdue-payment": gettext_lazy(
        "This playbook is Leme's overdue-payment follow-up: while it is active, every payment that becomes "
        "overdue gives the customer's CSM a task due the next day, unless it was paid meanwhile. Paused or "
        "deleted, an overdue payment creates no task."
    ),
}


def take_over_builtins(playbook_model, version_model, now) -> int:
    """Where "Detractor recovery" or "UTI recovery month" is still as shipped (inactive, one version, never
    run), publish its current steps as a new version and make it active: it now creates those tasks. A team
    that already changed one keeps it as it is. Returns how many were taken over."""
    done = 0
    specs = {spec["key"]: spec for spec in _specs() if spec["key"] in TAKEN_OVER}
    for key, spec in specs.items():
        playbook = playbook_model.objects.filter(key=key, status="draft").first()
        if playbook is None or playbook.runs.exists() or playbook.versions.count() != 1:
            continue
        number = playbook.versions.get().number + 1
        version = version_model.objects.create(
            playbook=playbook,
            number=number,
            trigger_kind=spec["trigger_kind"],
            trigger_params=spec.get("trigger_params", {}),
            exit_goal=spec.get("exit_goal", ""),
            steps=spec["steps"],
            published_at=now,
        )
        playbook.live_version = version
        playbook.status = "active"
        playbook.description = spec["description"]
        playbook.cooldown_days = spec.get("cooldown_days", 30)
        playbook.save(update_fields=["live_version", "status", "description", "cooldown_days"])
        done += 1
    return done


def _specs() -> list[dict]:
    with translation.override(settings.LANGUAGE_CODE):
        return default_playbooks()


def install_defaults(playbook_model, version_model, now, keys: tuple[str, ...] | None = None) -> int:
    """Create the default playbooks that are missing (by ``key``; only those in ``keys`` when given); returns
    how many were created."""
    created = 0
    with translation.override(settings.LANGUAGE_CODE):
        for spec in default_playbooks():
            if keys is not None and spec["key"] not in keys:
                continue
            if playbook_model.objects.filter(key=spec["key"]).exists():
                continue
            playbook = playbook_model.objects.create(
                key=spec["key"],
                name=spec["name"],
                description=spec["description"],
                status="active" if spec["active"] else "draft",
                cooldown_days=spec.get("cooldown_days", 30),
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
