"""What health adds to the customer page and to My day (registered in ``HealthConfig.ready()``)."""

from dataclasses import replace

from health.forms import HealthOverrideForm
from health.selectors import HealthPanel, customer_health, turned_red


def customer_panel(user, customer, form: HealthOverrideForm | None = None) -> HealthPanel:
    """The customer page's health panel: two queries; the override form when the user may override."""
    panel = customer_health(user, customer)
    if panel.can_override:
        panel = replace(panel, form=form or HealthOverrideForm())
    return panel


def day_panel(user, today):
    """My day: the person's customers that turned red today; None when there are none."""
    return turned_red(user, today)
