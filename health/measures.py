"""What the health score measures, how a raw value becomes points, how points become a score and a band,
and how a change is put in words. Pure Python over plain values: the nightly run (``health.services``) feeds
it the readings of ``health.readings``; the customer page (``health.selectors``) explains stored rows with it.

The measures, each read over the day the score is for (``d``) and the 30 days up to it:

- ``adoption``: mean daily active users ÷ licences, in %: the active users of the customer's ``UsageDay`` rows
  of the 30 days up to ``d`` added up and divided by 30 (a day without a row counts 0), over the licences
  (``health.selectors.licences``). No licences known → no data.
- ``depth``: events per active user a day: the events of those 30 days ÷ their active users added up. When
  the profile version names key events, only the events of those names (exactly) are counted.
- ``trend``: active users of the 30 days up to ``d`` against the 30 before, in % (−100 … ); no usage in the 30
  before → no data.
- ``engagement``: days with at least one active user among those 30.
- ``relationship``: days since the last call, meeting or success review on the timeline (since the start of
  the contract when there was none).
- ``stakeholders``: how many of the two key roles (decision maker, champion) the customer's contacts cover.
- ``survey``: the customer's latest NPS, CSAT or CES answer within the freshness limit (180 days by default)
  on 0–100 (NPS ×10, CSAT and CES from the bottom to the top of their scale), averaged with the latest CHI
  (0–10, ×10) when there is one.
- ``payment``: delinquent running subscriptions (any → 0 points with the default thresholds); no running
  subscription → no data.
- ``onboarding``: onboarding milestones overdue (target passed, not reached) or reached late.
- ``churn_risk``: an open churn request or a UTI stay (any → 0 points with the default thresholds).

The usage measures (the first four) are left out as stale when the latest usage row is older than the
measure's freshness limit, and the survey measure when its latest answer is; the other measures are facts
of the day and are never stale.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

NO_DATA = "no_data"
STALE = "stale"


@dataclass(frozen=True)
class Reading:
    """One customer's raw value for one measure: ``raw`` None when there is no data; ``as_of`` the date of
    the data (None for facts of the day); ``facts`` the numbers the explanation quotes."""

    raw: float | None
    as_of: date | None = None
    facts: dict | None = None


@dataclass(frozen=True)
class Measure:
    key: str
    label: Promise
    dated: bool  # its data can be stale (usage, surveys)


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure("adoption", gettext_lazy("Usage"), True),
        Measure("depth", gettext_lazy("Usage depth"), True),
        Measure("trend", gettext_lazy("Usage trend"), True),
        Measure("engagement", gettext_lazy("Engagement"), True),
        Measure("relationship", gettext_lazy("Relationship"), False),
        Measure("stakeholders", gettext_lazy("Stakeholders"), False),
        Measure("survey", gettext_lazy("Surveys"), True),
        Measure("payment", gettext_lazy("Payment"), False),
        Measure("onboarding", gettext_lazy("Onboarding on time"), False),
        Measure("churn_risk", gettext_lazy("Churn risk"), False),
    )
}


def points(raw: float, worst: float, best: float) -> float:
    """``raw`` on 0–100: 0 at ``worst`` or beyond, 100 at ``best`` or beyond, linear between (``best`` may be
    below ``worst``: fewer days since the last touch is better)."""
    if best == worst:
        return 100.0 if raw >= best else 0.0
    value = (raw - worst) / (best - worst) * 100
    return max(0.0, min(100.0, value))


def round_half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def band_of(score: int | None, *, red_max: int, yellow_max: int) -> str:
    if score is None:
        return ""
    if score <= red_max:
        return "red"
    if score <= yellow_max:
        return "yellow"
    return "green"


@dataclass(frozen=True)
class Scored:
    score: int | None
    band: str
    measures: dict


def score(config: dict, readings: dict[str, Reading], *, day: date, red_max: int, yellow_max: int) -> Scored:
    """The score of one customer under one profile version's ``config`` (``measures`` of the version).

    Score = Σ(weight × points) ÷ Σ(weight) over the measures with fresh data, rounded half up; a measure
    without data or with stale data is left out, so its weight is spread over the others. No measure with
    data → no score."""
    rows: dict[str, dict] = {}
    used: list[tuple[str, float, float]] = []
    for key, rule in config.items():
        measure = MEASURES.get(key)
        if measure is None:
            continue
        reading = readings.get(key) or Reading(None)
        weight = float(rule.get("weight", 0))
        fresh_days = int(rule.get("fresh_days", 90))
        left_out = ""
        if measure.dated and reading.as_of is not None and (day - reading.as_of).days > fresh_days:
            left_out = STALE
        elif reading.raw is None:
            left_out = NO_DATA
        row = {
            "raw": reading.raw,
            "points": None,
            "weight": rule.get("weight", 0),
            "contribution": None,
            "left_out": left_out,
            "as_of": reading.as_of.isoformat() if reading.as_of else None,
            "fresh_days": fresh_days,
            "facts": reading.facts or {},
        }
        if not left_out and weight > 0:
            p = points(float(reading.raw), float(rule["worst"]), float(rule["best"]))
            row["points"] = round(p, 2)
            used.append((key, weight, p))
        rows[key] = row
    total_weight = sum(w for _, w, _ in used)
    if not total_weight:
        return Scored(score=None, band="", measures=rows)
    exact = sum(w * p for _, w, p in used) / total_weight
    for key, weight, p in used:
        rows[key]["contribution"] = round(weight * p / total_weight, 2)
    value = round_half_up(exact)
    return Scored(score=value, band=band_of(value, red_max=red_max, yellow_max=yellow_max), measures=rows)


# --- In words ---------------------------------------------------------------------------------------------


def _n(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    return number_format(round(float(value), digits), decimal_pos=digits if digits and value % 1 else 0)


def value_text(key: str, row: dict) -> str:
    """A measure's value in plain words, from a stored row (``raw`` and ``facts``)."""
    raw, facts = row.get("raw"), row.get("facts") or {}
    if raw is None:
        return "—"
    if key == "adoption":
        return _("%(users)s active users a day of %(licences)s licences") % {
            "users": _n(facts.get("users"), 1),
            "licences": _n(facts.get("licences")),
        }
    if key == "depth":
        if facts.get("key_events"):
            return _("%(events)s key events per active user a day (%(names)s)") % {
                "events": _n(raw, 1),
                "names": ", ".join(facts["key_events"]),
            }
        return _("%(events)s events per active user a day") % {"events": _n(raw, 1)}
    if key == "trend":
        return _("%(change)s%% active users against the 30 days before") % {
            "change": ("+" if raw > 0 else "") + _n(raw)
        }
    if key == "engagement":
        n = int(raw)
        return ngettext("%(n)s active day of 30", "%(n)s active days of 30", n) % {"n": n}
    if key == "relationship":
        n = int(raw)
        if facts.get("never"):
            return ngettext(
                "no call, meeting or review since the start, %(n)s day ago",
                "no call, meeting or review since the start, %(n)s days ago",
                n,
            ) % {"n": n}
        return ngettext(
            "%(n)s day since the last call, meeting or review",
            "%(n)s days since the last call, meeting or review",
            n,
        ) % {"n": n}
    if key == "stakeholders":
        roles = [
            str(label)
            for flag, label in (
                (facts.get("decision_maker"), _("decision maker")),
                (facts.get("champion"), _("champion")),
            )
            if flag
        ]
        return _("key roles covered: %(roles)s") % {"roles": ", ".join(roles) or _("none")}
    if key == "survey":
        return _("latest answers at %(value)s of 100") % {"value": _n(raw)}
    if key == "payment":
        n = int(raw)
        if not n:
            return _("paying on time")
        return ngettext("%(n)s delinquent subscription", "%(n)s delinquent subscriptions", n) % {"n": n}
    if key == "onboarding":
        n = int(raw)
        if not n:
            return _("milestones on time")
        return ngettext("%(n)s milestone overdue or late", "%(n)s milestones overdue or late", n) % {"n": n}
    if key == "churn_risk":
        if facts.get("uti"):
            return _("in UTI")
        if facts.get("churn_request"):
            return _("open churn request")
        return _("no churn request")
    return _n(raw, 1)


def left_out_text(row: dict) -> str:
    if row.get("left_out") == STALE:
        if row.get("as_of"):
            return _("latest data from %(date)s, older than %(days)s days") % {
                "date": date_format(date.fromisoformat(row["as_of"]), "SHORT_DATE_FORMAT"),
                "days": row.get("fresh_days", 90),
            }
        return _("data older than %(days)s days") % {"days": row.get("fresh_days", 90)}
    if row.get("left_out") == NO_DATA:
        return _("no data")
    return ""


@dataclass(frozen=True)
class MeasureChange:
    key: str
    label: str
    delta: int  # points of score this measure moved, rounded
    text: str  # "Usage −12: 18 → 9 active users a day of 20 licences"


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else (f"−{-n}" if n < 0 else "±0")


def _delta(key: str, before: dict, after: dict) -> int:
    """The points of score measure ``key`` moved between two rows' ``measures``, rounded."""
    old, new = before.get(key) or {}, after.get(key) or {}
    return round_half_up((new.get("contribution") or 0) - (old.get("contribution") or 0))


def _change(key: str, before: dict, after: dict) -> MeasureChange | None:
    """How measure ``key`` moved between two rows, in words; None when neither its points nor its words changed."""
    measure = MEASURES[key]
    old, new = before.get(key) or {}, after.get(key) or {}
    delta = _delta(key, before, after)
    old_text = value_text(key, old) if not old.get("left_out") and old else left_out_text(old) or "—"
    new_text = value_text(key, new) if not new.get("left_out") and new else left_out_text(new) or "—"
    if old_text == new_text and not delta:
        return None
    text = _("%(measure)s %(delta)s: %(before)s → %(after)s") % {
        "measure": measure.label,
        "delta": _signed(delta),
        "before": old_text,
        "after": new_text,
    }
    return MeasureChange(key=key, label=str(measure.label), delta=delta, text=text)


def changes(before: dict, after: dict) -> list[MeasureChange]:
    """Measure by measure, how the score moved between two stored rows' ``measures``, biggest move first.
    A measure that came in or went out of the score counts its whole contribution."""
    found = [_change(key, before, after) for key in dict.fromkeys([*after, *before]) if key in MEASURES]
    return sorted((c for c in found if c is not None), key=lambda c: (-abs(c.delta), c.key))


def fell_most(before: dict, after: dict) -> MeasureChange | None:
    """The measure that pulled the score down most between two rows (None if none fell); of two that fell as much,
    the first by key, as in ``changes``. Only that one is put in words (My day's customers gone red: dozens)."""
    fallen = [
        (delta, key)
        for key in dict.fromkeys([*after, *before])
        if key in MEASURES and (delta := _delta(key, before, after)) < 0
    ]
    return _change(min(fallen)[1], before, after) if fallen else None
