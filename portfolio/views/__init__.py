"""Pages of the portfolio. Views parse input, call a selector or a service, and render; no rules here.

One module per page area (``urls`` points at them; every view is importable from the package too):

* ``day``: My day, and a task marked done;
* ``listing``: the portfolio list, bulk reassignment, a new customer, the CSV import;
* ``customers``: the customer page and its forms that add timeline entries, tasks, contacts, opportunities;
* ``journey``: milestones and the handoff, success reviews, churn requests, the UTI exit;
* ``boards``: the onboarding and UTI boards.
"""

from portfolio.views.boards import onboarding_board, uti_board
from portfolio.views.customers import (
    activity_add,
    contact_add,
    customer_detail,
    customer_task_complete,
    opportunity_add,
    opportunity_close,
    task_add,
)
from portfolio.views.day import my_day, task_complete
from portfolio.views.journey import (
    churn_open,
    churn_resolve,
    churn_save_attempt,
    handoff,
    milestone_achieve,
    move_to_ongoing,
    review,
    uti_exit,
)
from portfolio.views.listing import customer_create, import_csv, portfolio_list, portfolio_reassign

__all__ = [
    "activity_add",
    "churn_open",
    "churn_resolve",
    "churn_save_attempt",
    "contact_add",
    "customer_create",
    "customer_detail",
    "customer_task_complete",
    "handoff",
    "import_csv",
    "milestone_achieve",
    "move_to_ongoing",
    "my_day",
    "onboarding_board",
    "opportunity_add",
    "opportunity_close",
    "portfolio_list",
    "portfolio_reassign",
    "review",
    "task_add",
    "task_complete",
    "uti_board",
    "uti_exit",
]
