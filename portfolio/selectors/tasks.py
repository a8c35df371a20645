"""My tasks: every open task of a person (or, for a leader, of the team), grouped by when it is due, filtered,
paged; and the done ones, kept and searchable."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from accounts.access import can_lead, can_write
from accounts.models import User
from core import clock
from core.search import folded_contains
from portfolio.models import Task, TaskStatus
from portfolio.selectors.customer import task_assignees
from portfolio.selectors.scope import tasks_visible_to

TABS = ("open", "done")
GROUPS = ("overdue", "today", "week", "later")
TEAM = "team"  # the person filter's value for every task a leader oversees


@dataclass(frozen=True)
class TaskFilters:
    tab: str = "open"
    person: str = ""  # "" the person themselves; TEAM; or a person's id
    customer: str = ""  # part of the customer's name
    origin: str = ""
    due_from: date | None = None
    due_to: date | None = None
    q: str = ""  # part of the task's title or its customer's name


@dataclass(frozen=True)
class TaskGroup:
    key: str  # one of GROUPS; "" on the done tab
    tasks: list[Task]


@dataclass(frozen=True)
class MyTasksPage:
    """One page of a person's tasks, grouped by when they are due, with the counts of every group (whole list)."""

    filters: TaskFilters
    today: date
    page: Page
    groups: list[TaskGroup]
    counts: dict[str, int]  # per group, over every open task the filters match
    open_count: int
    people: list[User]  # whose tasks the person may list, and to whom they may hand theirs
    team: bool  # the rows are several people's: each names its owner
    can_change: bool
    leads: bool


def week_end(today: date) -> date:
    """The last day of today's week (Sunday): "this week" is from tomorrow to that day."""
    return today + timedelta(days=6 - today.weekday())


def group_of(due: date, today: date) -> str:
    if due < today:
        return "overdue"
    if due == today:
        return "today"
    if due <= week_end(today):
        return "week"
    return "later"


def _owner_filter(user: User, filters: TaskFilters, people: list[User]) -> Q:
    if filters.person == TEAM and can_lead(user):
        return Q()
    if filters.person.isdigit() and int(filters.person) in {p.pk for p in people}:
        return Q(owner_id=int(filters.person))
    return Q(owner=user)


def tasks_listed(user: User, filters: TaskFilters, whose: Q) -> QuerySet[Task]:
    """The tasks the filters match on either tab, from the door (tasks of customers the user sees)."""
    qs = tasks_visible_to(user).filter(whose)
    if filters.customer:
        qs = qs.filter(folded_contains("customer__name", filters.customer))
    if filters.origin:
        qs = qs.filter(origin=filters.origin)
    if filters.due_from:
        qs = qs.filter(due_date__gte=filters.due_from)
    if filters.due_to:
        qs = qs.filter(due_date__lte=filters.due_to)
    if filters.q:
        qs = qs.filter(folded_contains("title", filters.q) | folded_contains("customer__name", filters.q))
    return qs


def task_people(user: User) -> list[User]:
    """Whose tasks ``user`` may list, and to whom they may hand theirs: the people they may give tasks to."""
    return list(task_assignees(user).order_by("full_name", "pk"))


def my_tasks_page(
    user: User,
    filters: TaskFilters,
    *,
    page_number: str | int | None = None,
    per_page: int = 25,
    people: list[User] | None = None,
) -> MyTasksPage:
    """The My tasks page in three queries (the people, unless given; the counts; the page of rows) and, on the
    done tab, its count."""
    today = clock.today()
    people = task_people(user) if people is None else people
    whose = _owner_filter(user, filters, people)
    listed = tasks_listed(user, filters, whose)
    end = week_end(today)
    counts = listed.filter(status=TaskStatus.OPEN).aggregate(
        overdue=Count("pk", filter=Q(due_date__lt=today)),
        today=Count("pk", filter=Q(due_date=today)),
        week=Count("pk", filter=Q(due_date__gt=today, due_date__lte=end)),
        later=Count("pk", filter=Q(due_date__gt=end)),
    )
    open_count = sum(counts.values())
    rows = listed.select_related("customer", "owner")
    if filters.tab == "done":
        rows = rows.filter(status=TaskStatus.DONE).order_by("-completed_at", "-pk")
        paginator = Paginator(rows, per_page)
    else:
        paginator = Paginator(rows.filter(status=TaskStatus.OPEN).order_by("due_date", "pk"), per_page)
        paginator.count = open_count  # counted with the groups: no second COUNT
    page = paginator.get_page(page_number)
    groups: list[TaskGroup] = []
    for task in page.object_list:
        key = "" if filters.tab == "done" else group_of(task.due_date, today)
        if not groups or groups[-1].key != key:
            groups.append(TaskGroup(key=key, tasks=[]))
        groups[-1].tasks.append(task)
    return MyTasksPage(
        filters=filters,
        today=today,
        page=page,
        groups=groups,
        counts=counts,
        open_count=open_count,
        people=people,
        team=whose != Q(owner=user),
        can_change=can_write(user),
        leads=can_lead(user),
    )
