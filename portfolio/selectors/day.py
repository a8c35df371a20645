"""My day: what needs the person today."""

from datetime import date, timedelta
from typing import TypedDict

from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from portfolio.models import (
    ChurnOutcome,
    ChurnRequest,
    Milestone,
    ReviewStatus,
    Stage,
    SuccessReview,
    Task,
    TaskStatus,
    UtiExit,
    UtiStay,
)
from portfolio.selectors.scope import (
    churn_requests_visible_to,
    milestones_visible_to,
    reviews_visible_to,
    tasks_visible_to,
    uti_stays_visible_to,
)

TASKS_SHOWN = 50


class MyDay(TypedDict):
    """The My day page's context (a mapping: callers and the template read it by key)."""

    today: date
    tasks: list[Task]
    task_count: int  # every task due, while ``tasks`` holds the first TASKS_SHOWN
    reviews: list[SuccessReview]
    uti: list[UtiStay]
    milestones: list[Milestone]
    churn_requests: list[ChurnRequest]


def my_day(user: User, *, today: date | None = None) -> MyDay:
    """What needs the person today: their overdue and today's tasks, reviews due, customers in UTI,
    onboarding milestones at risk and new churn requests in their scope."""
    today = today or timezone.localdate()
    mine = Q(owner=user)
    tasks = (
        tasks_visible_to(user)
        .filter(mine, status=TaskStatus.OPEN, due_date__lte=today)
        .select_related("customer")
        .order_by("due_date", "pk")
    )
    # A leader's day also holds the team's overdue reviews, UTI customers and churn requests.
    leads = user.is_admin or user.role == Role.LEADER
    due_reviews = Q(due_date__lte=today + timedelta(days=14)) & (mine | Q(due_date__lt=today) if leads else mine)
    reviews = (
        reviews_visible_to(user)
        .filter(due_reviews, status=ReviewStatus.SCHEDULED)
        .select_related("customer")
        .order_by("due_date", "pk")
    )
    customer_people = Q() if leads else Q(customer__owner=user) | Q(customer__implementation_manager=user)
    uti = (
        uti_stays_visible_to(user)
        .filter(customer_people, exit=UtiExit.OPEN)
        .select_related("customer")
        .order_by("ends_on")
    )
    milestones = (
        milestones_visible_to(user)
        .filter(
            customer_people,
            achieved_on__isnull=True,
            customer__stage=Stage.ONBOARDING,
            target_date__lte=today + timedelta(days=7),
        )
        .select_related("customer")
        .order_by("target_date")
    )
    churn = (
        churn_requests_visible_to(user)
        .filter(customer_people, outcome=ChurnOutcome.OPEN)
        .select_related("customer", "reason")
        .order_by("-created_at")
    )
    return {
        "today": today,
        "tasks": list(tasks[:TASKS_SHOWN]),
        "task_count": tasks.count(),
        "reviews": list(reviews[:20]),
        "uti": list(uti[:20]),
        "milestones": list(milestones[:20]),
        "churn_requests": list(churn[:20]),
    }
