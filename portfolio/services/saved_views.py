"""A person's saved portfolio views: a name for a set of filters, sort and page size."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import can_change_own_row
from accounts.models import User
from portfolio.models import SavedView

MAX_VIEWS = 50


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if len(name) > SavedView._meta.get_field("name").max_length:
        raise ValidationError({"name": _("Keep the name under 80 characters.")})
    return name


def _ensure_own(view: SavedView, actor: User) -> None:
    if not can_change_own_row(actor, person_id=view.person_id):
        raise PermissionDenied(_("A saved view belongs to the person who saved it."))


@transaction.atomic
def saved_view_save(*, name: str, query: str, actor: User) -> SavedView:
    """Save the list's current filters under a name. Saving again under a name the person already uses
    replaces that view's filters (the "save current" of an open view). ``query`` is the list's normalised
    query string (``PortfolioFilters.as_query``), never what the browser sent as such."""
    name = _clean_name(name)
    existing = SavedView.objects.select_for_update().filter(person=actor, name__iexact=name).first()
    if existing is not None:
        _ensure_own(existing, actor)
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if SavedView.objects.filter(person=actor).count() >= MAX_VIEWS:
        raise ValidationError({"name": _("You have %(n)s saved views: delete one first.") % {"n": MAX_VIEWS}})
    return SavedView.objects.create(person=actor, name=name, query=query)


@transaction.atomic
def saved_view_rename(*, view: SavedView, name: str, actor: User) -> SavedView:
    _ensure_own(view, actor)
    name = _clean_name(name)
    if SavedView.objects.filter(person_id=view.person_id, name__iexact=name).exclude(pk=view.pk).exists():
        raise ValidationError({"name": _("You already have a view with this name.")})
    view.name = name
    view.save(update_fields=["name"])
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, actor: User) -> None:
    _ensure_own(view, actor)
    view.delete()
