"""What the Settings page of teams and people reads from the portfolio: how many customers each team has, and the
customers whose owner was deactivated (they keep them until someone reassigns them)."""

from django.db.models import Count, QuerySet

from accounts.models import User
from portfolio.models import Customer, Stage
from portfolio.selectors.scope import customers_visible_to


def customers_per_team(user: User) -> dict[int | None, int]:
    """The live (not churned) customers ``user`` sees, counted by their owner's team (one query)."""
    rows = (
        customers_visible_to(user).exclude(stage=Stage.CHURNED).order_by().values("owner__team").annotate(n=Count("pk"))
    )
    return {row["owner__team"]: row["n"] for row in rows}


def customers_needing_owner(user: User) -> QuerySet[Customer]:
    """The live customers ``user`` sees whose owner is deactivated: they stay that person's (nothing reassigns
    them on its own) until an admin or leader hands them to someone, from the portfolio."""
    return (
        customers_visible_to(user)
        .exclude(stage=Stage.CHURNED)
        .filter(owner__is_active=False)
        .select_related("owner", "owner__team")
        .order_by("owner__full_name", "name")
    )
