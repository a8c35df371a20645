"""The figures, from the totals of a period (DOMAIN.md, "Revenue and retention metrics").

Pure arithmetic: :class:`Totals` are sums over customers (a rollup row, several rows added up, or the
customers of a drill-down); :func:`headline` turns them into MRR, churn, GRR, NRR and the rest. A rate
whose denominator is zero is undefined: its value is ``None`` and it carries the reason, shown as "—" with
that reason as a tooltip, never as 0.

Over a period of several months the same definitions apply to the whole period: the customers and MRR
present at its first day, the movements of all its months, and each customer measured from the start to
the end of the period for GRR and NRR (a contraction later won back within the period is no loss).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ONE = Decimal(1)


@dataclass(frozen=True)
class Totals:
    """Sums over the customers of a period and slice. A customer counts where its owner, segment, plan and
    service model were at the start of the period; "start customers" are those paying on its first day."""

    customers_start: int = 0
    mrr_start_cents: int = 0
    customers_end: int = 0
    mrr_end_cents: int = 0
    new_cents: int = 0
    expansion_cents: int = 0
    reactivation_cents: int = 0
    contraction_cents: int = 0
    churn_cents: int = 0
    new_customers: int = 0
    expansion_customers: int = 0
    reactivation_customers: int = 0
    contraction_customers: int = 0
    churn_customers: int = 0
    # Start customers with a churn in the period: the logo churn numerator.
    churned_customers: int = 0
    voluntary_churned: int = 0
    involuntary_churned: int = 0
    voluntary_churn_cents: int = 0
    involuntary_churn_cents: int = 0
    # Customers not paying at the start that churned within the period: in neither side of logo churn.
    joined_and_churned: int = 0
    # Start customers: Σ min(MRR at end, MRR at start) (GRR) and Σ MRR at end (NRR).
    retained_mrr_cents: int = 0
    start_customers_mrr_end_cents: int = 0

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def of(cls, row) -> "Totals":
        """From a mapping or an object with the totals' names (a rollup row, an aggregate)."""
        get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
        return cls(**{name: int(get(name) or 0) for name in cls.names()})

    @classmethod
    def sum(cls, rows: Iterable["Totals"]) -> "Totals":
        total = cls()
        for row in rows:
            total = total + row
        return total

    @property
    def net_new_cents(self) -> int:
        return (
            self.new_cents + self.expansion_cents + self.reactivation_cents - self.contraction_cents - self.churn_cents
        )

    @property
    def other_churned(self) -> int:
        """Churned start customers without a recorded churn request (a subscription simply ended)."""
        return self.churned_customers - self.voluntary_churned - self.involuntary_churned


@dataclass(frozen=True)
class Figure:
    key: str
    value: int | Decimal | None
    unit: str  # money (cents), count, rate (0..1), ratio, months
    why: str | Promise = ""  # why the value is undefined

    @property
    def defined(self) -> bool:
        return self.value is not None


NO_START_CUSTOMERS = _("No customers were paying at the start of the period: the rate is undefined.")
NO_START_MRR = _("There was no MRR at the start of the period: the rate is undefined.")
NO_LOSSES = _("No churn and no contraction in the period: there is nothing to divide by.")
NO_PAYING = _("No paying customers at the end of the period.")
SHORT_HISTORY = _("Fewer than six complete months with paying customers at their start.")
NO_CHURN = _("No logo churn in the previous six complete months: lifetime and LTV are unbounded.")


def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def cents(value: Decimal | None) -> int | None:
    """An amount of money rounded to the cent (half up)."""
    return None if value is None else int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def annualised(rate: Decimal | None, months: int) -> Decimal | None:
    """A churn rate over ``months`` months as a yearly rate: 1 − (1 − r)^(12/months), never 12 × r."""
    if rate is None:
        return None
    exponent = Decimal(12) / Decimal(months)
    base = ONE - rate
    if exponent == exponent.to_integral_value():
        return ONE - base ** int(exponent)
    return ONE - base**exponent


def _rate(key: str, numerator, denominator, why) -> Figure:
    value = ratio(numerator, denominator)
    return Figure(key, value, "rate", "" if value is not None else why)


def headline(t: Totals, *, months: int = 1) -> dict[str, Figure]:
    """Every figure of one period that its totals decide."""
    logo = ratio(t.churned_customers, t.customers_start)
    logo_why = "" if logo is not None else NO_START_CUSTOMERS
    figures = [
        Figure("mrr", t.mrr_end_cents, "money"),
        Figure("arr", 12 * t.mrr_end_cents, "money"),
        Figure("mrr_start", t.mrr_start_cents, "money"),
        Figure("net_new", t.net_new_cents, "money"),
        Figure("new", t.new_cents, "money"),
        Figure("expansion", t.expansion_cents, "money"),
        Figure("reactivation", t.reactivation_cents, "money"),
        Figure("contraction", t.contraction_cents, "money"),
        Figure("churn", t.churn_cents, "money"),
        Figure("paying", t.customers_end, "count"),
        Figure("customers_start", t.customers_start, "count"),
        Figure("arpa", cents(ratio(t.mrr_end_cents, t.customers_end)), "money", "" if t.customers_end else NO_PAYING),
        Figure("churned", t.churned_customers, "count"),
        Figure("voluntary_churned", t.voluntary_churned, "count"),
        Figure("involuntary_churned", t.involuntary_churned, "count"),
        Figure("voluntary_churn", t.voluntary_churn_cents, "money"),
        Figure("involuntary_churn", t.involuntary_churn_cents, "money"),
        Figure("joined_and_churned", t.joined_and_churned, "count"),
        Figure("logo_churn", logo, "rate", "" if logo is not None else NO_START_CUSTOMERS),
        Figure("logo_churn_annualised", annualised(logo, months), "rate", logo_why),
        _rate("gross_mrr_churn", t.churn_cents + t.contraction_cents, t.mrr_start_cents, NO_START_MRR),
        _rate(
            "net_mrr_churn",
            t.churn_cents + t.contraction_cents - t.expansion_cents - t.reactivation_cents,
            t.mrr_start_cents,
            NO_START_MRR,
        ),
        _rate("grr", t.retained_mrr_cents, t.mrr_start_cents, NO_START_MRR),
        _rate("nrr", t.start_customers_mrr_end_cents, t.mrr_start_cents, NO_START_MRR),
    ]
    quick = ratio(t.new_cents + t.expansion_cents + t.reactivation_cents, t.churn_cents + t.contraction_cents)
    figures.append(Figure("quick_ratio", quick, "ratio", "" if quick is not None else NO_LOSSES))
    return {f.key: f for f in figures}


def unit_economics(
    *, arpa_cents: int | None, monthly_totals: Sequence[Totals], gross_margin: Decimal = ONE
) -> dict[str, Figure]:
    """LTV and customer lifetime from the six complete months before (``monthly_totals``, one per month).

    The churn rate is the average of the six monthly logo churn rates; with fewer than six months, or a
    month without customers at its start, it is undefined, and so is an average of zero churn.
    """
    rates = [ratio(t.churned_customers, t.customers_start) for t in monthly_totals]
    if len(rates) < 6 or any(r is None for r in rates):
        why = SHORT_HISTORY
        return {"ltv": Figure("ltv", None, "money", why), "lifetime": Figure("lifetime", None, "months", why)}
    average = sum(rates, Decimal(0)) / Decimal(len(rates))
    if not average:
        return {"ltv": Figure("ltv", None, "money", NO_CHURN), "lifetime": Figure("lifetime", None, "months", NO_CHURN)}
    lifetime = ONE / average
    ltv = None if arpa_cents is None else cents(Decimal(arpa_cents) * gross_margin / average)
    return {
        "ltv": Figure("ltv", ltv, "money", "" if ltv is not None else NO_PAYING),
        "lifetime": Figure("lifetime", lifetime, "months"),
        "churn_six_months": Figure("churn_six_months", average, "rate"),
    }


NO_SPEND = _("No sales and marketing spend entered for %(months)s.")
NO_NEW_CUSTOMERS = _("No new customers in the period: CAC is undefined.")
NO_CAC = _("CAC is undefined or zero.")
NO_LTV = _("LTV is undefined.")
NO_ARPA = _("ARPA is undefined.")
HEALTHY_LTV_CAC = Decimal(3)  # 3:1 or better
HEALTHY_PAYBACK_MONTHS = Decimal(12)  # under 12 months


def acquisition(
    *,
    spend_cents: int,
    missing_months: Sequence[str],
    new_customers: int,
    arpa_cents: int | None,
    ltv_cents: int | None,
    gross_margin: Decimal = ONE,
) -> dict[str, Figure]:
    """CAC, LTV:CAC and CAC payback of one period: the spend of its months (all of them entered, else
    undefined), its new customers (first paid day in the period), and the ARPA and LTV of the same customers."""
    spend_why = NO_SPEND % {"months": ", ".join(missing_months)} if missing_months else ""
    spend = Figure("spend", None if missing_months else spend_cents, "money", spend_why)
    if spend.value is None:
        cac = Figure("cac", None, "money", spend_why)
    elif not new_customers:
        cac = Figure("cac", None, "money", NO_NEW_CUSTOMERS)
    else:
        cac = Figure("cac", cents(ratio(spend.value, new_customers)), "money")
    if ltv_cents is None:
        ltv_cac = Figure("ltv_cac", None, "ratio", NO_LTV)
    elif not cac.value:
        ltv_cac = Figure("ltv_cac", None, "ratio", cac.why or NO_CAC)
    else:
        ltv_cac = Figure("ltv_cac", ratio(ltv_cents, cac.value), "ratio")
    margin_arpa = None if arpa_cents is None else Decimal(arpa_cents) * gross_margin
    if cac.value is None:
        payback = Figure("cac_payback", None, "months", cac.why)
    elif not margin_arpa:
        payback = Figure("cac_payback", None, "months", NO_ARPA)
    else:
        payback = Figure("cac_payback", ratio(cac.value, margin_arpa), "months")
    return {
        "spend": spend,
        "acquired": Figure("acquired", new_customers, "count"),
        "cac": cac,
        "ltv_cac": ltv_cac,
        "cac_payback": payback,
        "gross_margin": Figure("gross_margin", gross_margin, "rate"),
    }


# The unit economics figures, in the order the page, the API and the CSV give them.
UNIT_FIGURES = ["spend", "acquired", "cac", "arpa", "ltv", "ltv_cac", "cac_payback", "gross_margin"]


def healthy(figure: Figure) -> bool | None:
    """Against the usual lines: LTV:CAC of 3:1 or better, CAC payback under 12 months; None when undefined."""
    if figure.value is None:
        return None
    if figure.key == "ltv_cac":
        return figure.value >= HEALTHY_LTV_CAC
    if figure.key == "cac_payback":
        return figure.value < HEALTHY_PAYBACK_MONTHS
    return None


# How each figure is computed, shown beside it on the page (DOMAIN.md's definitions).
HOW: dict[str, Promise] = {
    "mrr": _("Sum of the customers' month-end MRR at the end of the period (annual plans ÷ 12; trials count 0)."),
    "arr": _("12 × MRR."),
    "net_new": _("New + expansion + reactivation − contraction − churn: MRR at the end minus MRR at the start."),
    "paying": _("Customers with MRR above zero at the end of the period."),
    "arpa": _("Average ticket: MRR ÷ paying customers, a customer's subscriptions added up first."),
    "logo_churn": _(
        "Customers paying at the start who churned in the period ÷ customers paying at the start. Customers who "
        "joined and churned within the period count in neither."
    ),
    "logo_churn_annualised": _("1 − (1 − period rate)^(12 ÷ months in the period); never 12 × the monthly rate."),
    "gross_mrr_churn": _("(Churn + contraction) ÷ MRR at the start."),
    "net_mrr_churn": _(
        "(Churn + contraction − expansion − reactivation) ÷ MRR at the start; below zero is negative churn."
    ),
    "grr": _(
        "Customers paying at the start: (MRR at the start − churn − contraction) ÷ MRR at the start; expansion "
        "does not count."
    ),
    "nrr": _("What the customers paying at the start pay at the end ÷ what they paid at the start."),
    "nrr_t12m": _("NRR of the customers paying twelve months before the end of the period."),
    "quick_ratio": _("(New + expansion + reactivation) ÷ (churn + contraction)."),
    "ltv": _(
        "ARPA × gross margin (the whole of revenue until it is set) ÷ average monthly logo churn of the previous "
        "six complete months."
    ),
    "lifetime": _("1 ÷ average monthly logo churn of the previous six complete months, in months."),
    "churned": _(
        "Customers paying at the start who churned. Voluntary: the customer asked to cancel; involuntary: "
        "non-payment (from the churn request that ended it); the rest ended without a churn request."
    ),
    "joined_and_churned": _("Customers not paying at the start who churned within the period: outside logo churn."),
    "spend": _("The sales and marketing spend entered for the period's months, all of them (else undefined)."),
    "acquired": _(
        "Customers whose first paid day falls in the period, including those who joined and churned within it: "
        "they cost the same to acquire."
    ),
    "cac": _("Sales and marketing spend of the period ÷ its new customers; undefined without new customers."),
    "ltv_cac": _("LTV ÷ CAC, of the whole workspace. 3:1 or better is healthy."),
    "cac_payback": _(
        "CAC ÷ (ARPA × gross margin), in months: how long a customer takes to pay back what it cost "
        "to acquire. Under 12 months is healthy."
    ),
    "gross_margin": _(
        "The workspace's gross margin, set by an admin. LTV and CAC payback use it; until it is set, it is 100 %."
    ),
    "requests_opened": _(
        'Churn requests asked for in the period (their "asked on" day), of the customers you see with the '
        "page's filters, by each customer's CSM, segment, plan and service model now."
    ),
    "save_rate": _(
        "Requests opened in the period that were saved (recovered, with or without a downsell) ÷ those saved or "
        "lost (churned); the ones still open count in neither. Undefined while none was decided."
    ),
    "uti_ended": _("UTI stays whose exit (back to ongoing, or churned after all) was decided in the period."),
    "uti_paying_90": _(
        "UTI stays whose 90th day after their start falls in the period (so they started at least 90 days before "
        "its end), and of those, the customers whose MRR at the end of that day's month, by the MRR ledger, was "
        "above zero."
    ),
}


# The figures' names on the page.
LABELS: dict[str, Promise] = {
    "mrr": _("MRR"),
    "arr": _("ARR"),
    "mrr_start": _("MRR at the start"),
    "net_new": _("Net new MRR"),
    "new": _("New"),
    "expansion": _("Expansion"),
    "reactivation": _("Reactivation"),
    "contraction": _("Contraction"),
    "churn": _("Churn"),
    "paying": _("Paying customers"),
    "customers_start": _("Customers at the start"),
    "arpa": _("ARPA (average ticket)"),
    "churned": _("Customers churned"),
    "voluntary_churned": _("Voluntary churn"),
    "involuntary_churned": _("Involuntary churn"),
    "voluntary_churn": _("Voluntary churn MRR"),
    "involuntary_churn": _("Involuntary churn MRR"),
    "joined_and_churned": _("Joined and churned in the period"),
    "logo_churn": _("Logo churn"),
    "logo_churn_annualised": _("Logo churn, annualised"),
    "gross_mrr_churn": _("Gross MRR churn"),
    "net_mrr_churn": _("Net MRR churn"),
    "grr": _("GRR"),
    "nrr": _("NRR"),
    "nrr_t12m": _("NRR, trailing 12 months"),
    "quick_ratio": _("Quick ratio"),
    "ltv": _("LTV"),
    "lifetime": _("Customer lifetime (months)"),
    "churn_six_months": _("Average monthly logo churn, six months"),
    "spend": _("Sales and marketing spend"),
    "acquired": _("New customers (first paid day)"),
    "cac": _("CAC"),
    "ltv_cac": _("LTV:CAC"),
    "cac_payback": _("CAC payback (months)"),
    "gross_margin": _("Gross margin"),
    "requests_opened": _("Churn requests opened"),
    "requests_saved": _("Saved (recovered or downsell)"),
    "requests_lost": _("Lost (churned)"),
    "requests_open": _("Still open"),
    "save_rate": _("Save rate"),
    "uti_ended": _("UTI stays ended"),
    "uti_recovered": _("Back to ongoing"),
    "uti_churned": _("Churned after all"),
    "uti_checked": _("UTI stays 90 days after their start"),
    "uti_paying_90": _("Still paying 90 days after the UTI started"),
}
