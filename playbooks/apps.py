from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlaybooksConfig(AppConfig):
    """Triggers, audiences and steps that turn events into tasks and emails."""

    name = "playbooks"
    verbose_name = _("Playbooks")

    def ready(self) -> None:
        from accounts import navigation
        from core import bulk, panels
        from core.labels import TASK_LINKS, TASK_ORIGINS
        from core.mail import bounces
        from playbooks import subscribers, tasks  # noqa: F401 - subscribing is importing; the beat names the tasks
        from playbooks.engine import TASK_ORIGIN
        from playbooks.mailing import late_bounce
        from playbooks.selectors import bulk_start_options, customer_runs, run_url_for_task

        bounces.register("playbook", late_bounce)

        TASK_ORIGINS.register(TASK_ORIGIN, _("playbook"))
        TASK_LINKS.register(TASK_ORIGIN, run_url_for_task)
        panels.register(
            panels.CustomerPanel(
                key="playbook-runs", template="playbooks/_customer_runs.html", load=customer_runs, order=50
            )
        )
        bulk.register(
            bulk.BulkAction(key="playbook-start", template="playbooks/_bulk_start.html", load=bulk_start_options)
        )
        navigation.register(
            navigation.NavItem(key="playbooks", label=_("Playbooks"), url_name="playbooks:list", order=35),
        )
