"""The rules a health profile version must follow, and what changed from one version to the next.

Pure functions over a version's ``measures`` JSON (see ``HealthProfileVersion``) and its band thresholds, so the
editor's form, the service that saves a version and the version list agree.

Measure names come from ``health.measures.MEASURES``.
The nightly computation's ``health.measures.MEASURES`` is where measures are defined; once it is there, these
labels should come from it.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from health.measures import MEASURES

# The measures in the order people read them: usage first, then the relationship, money and risk.
READING_ORDER = (
    "adoption",
    "depth",
    "trend",
    "engagement",
    "onboarding",
    "relationship",
    "stakeholders",
    "survey",
    "payment",
    "churn_risk",
)

# The settings of one measure, in the order the editor shows them.
FIELDS = ("weight", "worst", "best", "fresh_days")
FIELD_LABELS = {
    "weight": gettext_lazy("weight"),
    "worst": gettext_lazy("worst"),
    "best": gettext_lazy("best"),
    "fresh_days": gettext_lazy("freshness (days)"),
    "red_max": gettext_lazy("red up to"),
    "yellow_max": gettext_lazy("yellow up to"),
    "key_events": gettext_lazy("key events"),
}

# Key events: names as ``UsageEvent.name`` keeps them (at most 100 characters), a handful per profile.
KEY_EVENT_MAX_LENGTH = 100
KEY_EVENTS_MAX = 50


def key_events_from_text(text: str) -> list[str]:
    """The key event names an admin typed, one a line or separated by commas: trimmed, each once, sorted
    (the version keeps them sorted, so the same names in another order are no change)."""
    names = (name.strip() for line in (text or "").splitlines() for name in line.split(","))
    return sorted({name for name in names if name})


def key_events_errors(names: list[str], measures: dict) -> list[str]:
    """Everything wrong with a version's key events (they count in the ``depth`` measure only)."""
    errors = []
    too_long = [name for name in names if len(name) > KEY_EVENT_MAX_LENGTH]
    if too_long:
        errors.append(
            _("An event name has at most %(max)s characters (%(names)s).")
            % {"max": KEY_EVENT_MAX_LENGTH, "names": ", ".join(name[:30] + "…" for name in too_long)}
        )
    if any(not name.isprintable() for name in names):
        errors.append(_("An event name has no tabs or other invisible characters."))
    if len(names) > KEY_EVENTS_MAX:
        errors.append(_("At most %(max)s key events.") % {"max": KEY_EVENTS_MAX})
    if names and "depth" not in measures:
        errors.append(_("Key events count in the usage depth measure, which this profile does not score."))
    return errors


def measure_order(keys) -> list[str]:
    """Measure keys in the order people read them (``READING_ORDER``, then any other by name): a
    version's JSON keeps no order of its own on PostgreSQL."""
    known = list(READING_ORDER)
    return sorted(keys, key=lambda key: (known.index(key) if key in known else len(known), key))


def measure_label(key: str) -> str:
    measure = MEASURES.get(key)
    return str(measure.label) if measure else key


def number(value) -> int | float:
    """A threshold as JSON keeps it: an integer when it is whole, else a float."""
    value = Decimal(str(value))
    return int(value) if value == value.to_integral_value() else float(value)


def version_errors(measures: dict, red_max, yellow_max) -> dict[str, list[str]]:
    """Everything wrong with a version, by field (``"<measure>-<setting>"``, ``red_max``, ``yellow_max``, or
    ``__all__``). Empty when the version may be saved."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not measures:
        add("__all__", _("A profile needs at least one measure."))
    total = 0
    for key, settings in measures.items():
        values = {}
        for field in FIELDS:
            raw = settings.get(field)
            try:
                values[field] = Decimal(str(raw)) if raw not in (None, "") else None
            except InvalidOperation:
                values[field] = None
            if values[field] is None:
                add(f"{key}-{field}", _("Enter a number."))
        weight, worst, best, fresh = (values[f] for f in FIELDS)
        if weight is not None:
            if weight < 0 or weight != weight.to_integral_value():
                add(f"{key}-weight", _("A weight is a whole number, 0 or more."))
            else:
                total += weight
        if worst is not None and best is not None and worst == best:
            add(f"{key}-best", _("Worst and best must differ: the points go from one to the other."))
        if fresh is not None and (fresh < 1 or fresh != fresh.to_integral_value()):
            add(f"{key}-fresh_days", _("Freshness is a whole number of days, 1 or more."))
    if measures and total <= 0 and not any(f"{key}-weight" in errors for key in measures):
        add("__all__", _("The weights must add up to more than 0: at least one measure must count."))
    bands_ok = True
    for field, value in (("red_max", red_max), ("yellow_max", yellow_max)):
        if value is None or not 0 <= value <= 100:
            add(field, _("Enter a score from 0 to 100."))
            bands_ok = False
    if bands_ok and not red_max < yellow_max:
        add("yellow_max", _("Yellow must start above red: red up to must be less than yellow up to."))
    return errors


@dataclass(frozen=True)
class Change:
    """One line of a version's diff: a measure's setting (or a band threshold) before and after."""

    measure: str  # the measure's label, or "" for the bands
    setting: str
    before: object
    after: object


def version_diff(before: dict | None, after: dict) -> list[Change]:
    """What changed between two versions, each ``{"measures": {...}, "red_max": n, "yellow_max": n,
    "key_events": [...]}`` (the key events shown as one setting of the depth measure, "—" when none).

    A measure added shows its settings as ``after`` with ``before`` None; a removed one the other way round.
    The first version (``before`` None) has no diff.
    """
    if before is None:
        return []
    changes = []
    old, new = before["measures"], after["measures"]
    for key in measure_order({*old, *new}):
        label = measure_label(key)
        for field in FIELDS:
            was = old.get(key, {}).get(field) if key in old else None
            now = new.get(key, {}).get(field) if key in new else None
            if was != now:
                changes.append(Change(label, str(FIELD_LABELS[field]), was, now))
    for field in ("red_max", "yellow_max"):
        if before[field] != after[field]:
            changes.append(Change("", str(FIELD_LABELS[field]), before[field], after[field]))
    was, now = before.get("key_events") or [], after.get("key_events") or []
    if was != now:
        label = str(FIELD_LABELS["key_events"])
        changes.append(Change(measure_label("depth"), label, ", ".join(was) or None, ", ".join(now) or None))
    return changes
