"""Every write about customers and their journey. Views, the API, the import, tasks and commands call
these functions; the journey's rules live here and nowhere else.

One module per concern; callers import from the package (``from portfolio import services``):

* ``policies``: the service-model policies that date milestones, reviews and the UTI month;
* ``timeline``: timeline entries and the last touch;
* ``tasks``: tasks, idempotent by ``origin_key``;
* ``customers``: creation, descriptive changes, the stage machine, ownership and reassignment;
* ``contacts``: the customer's contacts;
* ``subscriptions``: subscriptions, the MRR ledger they drive, delinquency;
* ``onboarding``: milestones and the handoff;
* ``reviews``: success reviews;
* ``churn``: churn requests, the UTI recovery month, churning;
* ``expansion``: upsell and cross-sell opportunities;
* ``saved_views``: a person's saved portfolio views.
* ``notifications``: the bell's notices about a person's customers.
"""

from portfolio.services.churn import (
    churn_detail_is_vague,
    churn_request_open,
    churn_request_resolve,
    delinquency_escalate,
    save_attempt_add,
    uti_exit,
)
from portfolio.services.contacts import contact_archive, contact_create, contact_unarchive, contact_update
from portfolio.services.customers import (
    ALLOWED_STAGE_CHANGES,
    customer_create,
    customer_move_to_ongoing,
    customer_update,
    customers_reassign,
)
from portfolio.services.expansion import opportunity_create, opportunity_move, opportunity_win
from portfolio.services.notifications import notification_create, notifications_mark_read
from portfolio.services.onboarding import handoff_complete, handoff_unreached_warning, milestone_achieve
from portfolio.services.policies import policy_for
from portfolio.services.reviews import REVIEW_TEMPLATE, review_complete, review_schedule
from portfolio.services.saved_views import saved_view_delete, saved_view_rename, saved_view_save
from portfolio.services.subscriptions import (
    ledger_sync_effective,
    subscription_cancel,
    subscription_change,
    subscription_create,
    subscription_mark_delinquent,
    subscription_mark_paid,
)
from portfolio.services.tasks import (
    snooze_date,
    task_complete,
    task_create,
    task_reassign,
    task_snooze,
    tasks_cancel,
    tasks_complete,
)
from portfolio.services.timeline import TimelineEntry, activities_log_many, activity_log

__all__ = [
    "ALLOWED_STAGE_CHANGES",
    "REVIEW_TEMPLATE",
    "TimelineEntry",
    "activities_log_many",
    "activity_log",
    "churn_detail_is_vague",
    "churn_request_open",
    "churn_request_resolve",
    "contact_archive",
    "contact_create",
    "contact_unarchive",
    "contact_update",
    "customer_create",
    "customer_move_to_ongoing",
    "customer_update",
    "customers_reassign",
    "delinquency_escalate",
    "handoff_complete",
    "handoff_unreached_warning",
    "ledger_sync_effective",
    "milestone_achieve",
    "notification_create",
    "notifications_mark_read",
    "opportunity_create",
    "opportunity_move",
    "opportunity_win",
    "policy_for",
    "review_complete",
    "review_schedule",
    "save_attempt_add",
    "saved_view_delete",
    "saved_view_rename",
    "saved_view_save",
    "snooze_date",
    "subscription_cancel",
    "subscription_change",
    "subscription_create",
    "subscription_mark_delinquent",
    "subscription_mark_paid",
    "task_complete",
    "task_create",
    "task_reassign",
    "task_snooze",
    "tasks_cancel",
    "tasks_complete",
    "uti_exit",
]
