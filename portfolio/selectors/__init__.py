"""Every read a page or the API needs about customers. Each takes the acting user and starts from the
door (accounts.access), so nothing here can return another team's data. Selectors never import services.

One module per concern; callers import from the package (``from portfolio import selectors``):

* ``scope``: the door: customers and their rows that the user may see or change;
* ``listing``: the portfolio list, filtered, sorted, counted and paged;
* ``customer``: the customer page, its timeline card and the reads its forms need;
* ``day``: My day;
* ``boards``: the onboarding and UTI boards;
* ``search``: the search box in the top bar and its results page;
* ``tasks``: My tasks;
* ``renewals``: renewals ahead, and My day's renewals of the month;
* ``notifications``: the bell's notices;
* ``stages``: the stage a customer had on a past day (``stage_on``), or those in some stages then (``in_stage_on``).

A page's selector returns the page's data in one object (``CustomerPage``, ``PortfolioPage``, ``UtiBoard``;
``MyDay`` and ``OnboardingBoard`` are mappings, read by key), in a fixed number of queries.
"""

from portfolio.selectors.boards import (
    ONBOARDING_PAGE,
    OnboardingBoard,
    UtiBoard,
    onboarding_board,
    onboarding_customers,
    onboarding_key,
    onboarding_pace,
    pace_since,
    parse_onboarding_key,
    uti_board,
    uti_outcomes,
)
from portfolio.selectors.customer import (
    CustomerPage,
    CustomerTimeline,
    customer_contacts,
    customer_detail,
    customer_milestones,
    customer_page,
    customer_timeline,
    customer_timeline_card,
    mrr_history,
    open_task_count,
    stakeholder_coverage,
    subscriptions_running,
    task_assignees,
)
from portfolio.selectors.day import MyDay, my_day
from portfolio.selectors.listing import (
    PAGE_SIZES,
    SORTS,
    PortfolioFilters,
    PortfolioPage,
    customers_matching,
    portfolio_list,
    portfolio_page,
    portfolio_totals,
    saved_views_of,
)
from portfolio.selectors.notifications import NOTIFICATIONS_SHOWN, notifications_of
from portfolio.selectors.renewals import SORTS as RENEWAL_SORTS
from portfolio.selectors.renewals import WINDOWS as RENEWAL_WINDOWS
from portfolio.selectors.renewals import (
    MonthRenewals,
    RenewalFilters,
    RenewalsPage,
    month_renewals,
    renewal_owners,
    renewals_list,
    renewals_page,
)
from portfolio.selectors.scope import (
    CUSTOMER_PEOPLE,
    activities_visible_to,
    churn_requests_visible_to,
    contacts_visible_to,
    customer_get,
    customers_changeable_by,
    customers_of_team,
    customers_visible_to,
    milestones_visible_to,
    mrr_movements_visible_to,
    of_visible_customer_keys,
    of_visible_customers,
    opportunities_visible_to,
    page_sees_every_customer,
    reads_book_tally,
    reviews_visible_to,
    sees_every_customer,
    subscriptions_visible_to,
    tasks_visible_to,
    uti_stays_visible_to,
    visible_through,
)
from portfolio.selectors.search import KINDS as SEARCH_KINDS
from portfolio.selectors.search import SearchResults, search, search_page
from portfolio.selectors.stages import in_stage_on, stage_on
from portfolio.selectors.tasks import GROUPS as TASK_GROUPS
from portfolio.selectors.tasks import TABS as TASK_TABS
from portfolio.selectors.tasks import MyTasksPage, TaskFilters, my_tasks_page, task_people

__all__ = [
    "CUSTOMER_PEOPLE",
    "NOTIFICATIONS_SHOWN",
    "ONBOARDING_PAGE",
    "PAGE_SIZES",
    "RENEWAL_SORTS",
    "RENEWAL_WINDOWS",
    "SEARCH_KINDS",
    "SORTS",
    "TASK_GROUPS",
    "TASK_TABS",
    "CustomerPage",
    "CustomerTimeline",
    "MonthRenewals",
    "MyDay",
    "MyTasksPage",
    "OnboardingBoard",
    "PortfolioFilters",
    "PortfolioPage",
    "RenewalFilters",
    "RenewalsPage",
    "SearchResults",
    "TaskFilters",
    "UtiBoard",
    "activities_visible_to",
    "churn_requests_visible_to",
    "contacts_visible_to",
    "customer_contacts",
    "customer_detail",
    "customer_get",
    "customer_milestones",
    "customer_page",
    "customer_timeline",
    "customer_timeline_card",
    "customers_changeable_by",
    "customers_matching",
    "customers_of_team",
    "customers_visible_to",
    "in_stage_on",
    "milestones_visible_to",
    "month_renewals",
    "mrr_history",
    "mrr_movements_visible_to",
    "my_day",
    "my_tasks_page",
    "notifications_of",
    "of_visible_customer_keys",
    "of_visible_customers",
    "onboarding_board",
    "onboarding_customers",
    "onboarding_key",
    "onboarding_pace",
    "open_task_count",
    "opportunities_visible_to",
    "pace_since",
    "page_sees_every_customer",
    "parse_onboarding_key",
    "portfolio_list",
    "portfolio_page",
    "portfolio_totals",
    "reads_book_tally",
    "renewal_owners",
    "renewals_list",
    "renewals_page",
    "reviews_visible_to",
    "saved_views_of",
    "search",
    "search_page",
    "sees_every_customer",
    "stage_on",
    "stakeholder_coverage",
    "subscriptions_running",
    "subscriptions_visible_to",
    "task_assignees",
    "task_people",
    "tasks_visible_to",
    "uti_board",
    "uti_outcomes",
    "uti_stays_visible_to",
    "visible_through",
]
