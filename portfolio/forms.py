"""Forms validate input and show errors in the user's language; the services apply the rules."""

from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OWNER_ROLES
from accounts.selectors import assignable_people
from core import bounds
from core.csvfiles import CsvUploadForm
from portfolio.models import (
    ActivityKind,
    ChurnKind,
    ChurnOutcome,
    ChurnReason,
    ContactRole,
    HandoffChannel,
    HealthBand,
    OpportunityKind,
    OpportunitySource,
    OpportunityStage,
    PlanTier,
    Segment,
    ServiceModel,
    Stage,
    UtiExit,
)
from portfolio.selectors import (
    PAGE_SIZES,
    RENEWAL_SORTS,
    SORTS,
    PortfolioFilters,
    customers_changeable_by,
    customers_matching,
)
from portfolio.selectors.listing import NO_HEALTH
from portfolio.services.reviews import ReviewQuestion, review_answer
from portfolio.validators import validate_cnpj


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PortfolioFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    stage = forms.ChoiceField(label=_("Stage"), choices=[("", _("All stages")), *Stage.choices], required=False)
    service_model = forms.ChoiceField(
        label=_("Service model"), choices=[("", _("All models")), *ServiceModel.choices], required=False
    )
    segment = forms.ChoiceField(label=_("Segment"), choices=[("", _("All segments")), *Segment.choices], required=False)
    owner = forms.TypedChoiceField(label=_("CSM"), coerce=int, empty_value=None, required=False)
    health = forms.ChoiceField(
        label=_("Health"),
        choices=[("", _("Any health")), *HealthBand.choices, (NO_HEALTH, _("No score yet"))],
        required=False,
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(s, s) for s in SORTS],
    )
    per_page = forms.TypedChoiceField(
        label=_("Rows per page"), choices=[(n, n) for n in PAGE_SIZES], coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("All CSMs")), *[(u.pk, u.full_name) for u in owners]]


def portfolio_filters(user, data: QueryDict) -> tuple[PortfolioFilterForm, PortfolioFilters | None]:
    """The portfolio list's filters read from a query string (the page's, a saved view's, a bulk action's);
    ``None`` when they do not validate (an owner outside the person's teams, an unknown sort)."""
    form = PortfolioFilterForm(data or None, owners=assignable_people(user, roles=OWNER_ROLES))
    if not form.is_bound:
        return form, PortfolioFilters()
    if form.is_valid():
        return form, PortfolioFilters(**{k: v for k, v in form.cleaned_data.items() if v not in (None, "")})
    return form, None


class CustomerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    cnpj = forms.CharField(label=_("CNPJ"), required=False, validators=[validate_cnpj])
    segment = forms.ChoiceField(label=_("Segment"), choices=Segment.choices)
    plan_tier = forms.ChoiceField(label=_("Plan"), choices=PlanTier.choices)
    service_model = forms.ChoiceField(label=_("Service model"), choices=ServiceModel.choices)
    implementation_manager = forms.ModelChoiceField(label=_("Implementation manager (ISM)"), queryset=None)
    owner = forms.ModelChoiceField(label=_("CSM after handoff"), queryset=None, required=False)
    start_date = bounds.DateField(label=_("Start date"), widget=DateInput(), initial=date.today)
    renewal_date = bounds.DateField(label=_("Renewal date"), widget=DateInput(), required=False)
    licences = forms.IntegerField(
        label=_("Licences"),
        min_value=0,
        max_value=2_147_483_647,
        required=False,
        help_text=_("Seats bought; leave empty to add up the seats of its subscriptions."),
    )

    def __init__(self, *args, owners=None, implementers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["implementation_manager"].queryset = implementers
        self.fields["owner"].queryset = owners


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What"),
        choices=[(k, ActivityKind(k).label) for k in ("note", "call", "meeting", "email")],
        initial="note",
    )
    title = forms.CharField(label=_("Summary"), max_length=200)
    body = forms.CharField(label=_("Details"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    happened_at = bounds.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    contact = forms.ChoiceField(
        label=_("With"),
        required=False,
        help_text=_("A call, meeting or email with the contact who answered a survey closes that loop."),
    )

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The customer's contacts as the page already read them: choices, not a queryset, cost no query.
        self.contacts = {str(c.pk): c for c in contacts}
        self.fields["contact"].choices = [
            ("", _("Nobody in particular")),
            *((k, c.name) for k, c in self.contacts.items()),
        ]

    def clean_contact(self):
        return self.contacts.get(self.cleaned_data["contact"])


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    due_date = bounds.DateField(label=_("Due"), widget=DateInput(), initial=timezone.localdate)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None)

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=ContactRole.choices)
    language = forms.ChoiceField(label=_("Language"), choices=[("pt-br", "Português"), ("en", "English")])


class HandoffForm(forms.Form):
    to_user = forms.ModelChoiceField(label=_("Ongoing CSM"), queryset=None)
    channel = forms.ChoiceField(label=_("How it happened"), choices=HandoffChannel.choices)
    held_on = bounds.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    results = forms.CharField(label=_("Results achieved in onboarding"), widget=forms.Textarea(attrs={"rows": 3}))
    goals = forms.CharField(label=_("The customer's goals ahead"), widget=forms.Textarea(attrs={"rows": 3}))
    risks = forms.CharField(label=_("Risks"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    stakeholders = forms.CharField(label=_("Key stakeholders"), widget=forms.Textarea(attrs={"rows": 2}))
    confirm_unreached = forms.BooleanField(
        label=_("I hand the customer off with first value and first success unreached"), required=False
    )

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = people


class MilestoneAchieveForm(forms.Form):
    """The day a milestone was reached: today unless the ISM says an earlier day."""

    achieved_on = forms.DateField(label=_("Reached on"), widget=DateInput(), initial=timezone.localdate)


class ReviewForm(forms.Form):
    """The success review: each template question becomes a field; goals are one per line."""

    held_on = bounds.DateField(label=_("Held on"), widget=DateInput(), initial=timezone.localdate)
    goals = forms.CharField(
        label=_("Goals agreed for the next cycle (one per line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    outcome = forms.CharField(label=_("Outcome"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, questions: dict[str, list[ReviewQuestion]], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for part in ("past", "future"):
            for question in questions[part]:
                # named by the question's key: an answer reaches its question even if the template changed meanwhile
                self.fields[f"{part}_{question.key}"] = forms.CharField(
                    label=question.text, widget=forms.Textarea(attrs={"rows": 2}), required=False
                )

    def answers(self, part: str) -> list[dict]:
        return [
            review_answer(question, self.cleaned_data.get(f"{part}_{question.key}", ""))
            for question in self.questions[part]
        ]

    def part_fields(self, part: str):
        return [self[f"{part}_{question.key}"] for question in self.questions[part]]

    @property
    def past_fields(self):
        return self.part_fields("past")

    @property
    def future_fields(self):
        return self.part_fields("future")


class ReasonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ChurnReason) -> str:
        return f"{obj.category} → {obj}"


class ChurnRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ChurnKind.choices)
    reason = ReasonChoiceField(
        label=_("Reason"),
        queryset=ChurnReason.objects.filter(active=True, category__active=True).select_related("category"),
    )
    detail = forms.CharField(
        label=_("What exactly happened"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The concrete cause, in the customer's words: what is missing or changed, and who decided."),
    )
    requested_by = forms.CharField(label=_("Who asked"), max_length=150, required=False)
    requested_on = bounds.DateField(label=_("Asked on"), widget=DateInput(), initial=timezone.localdate)


class SaveAttemptForm(forms.Form):
    offer = forms.CharField(label=_("What was offered"), widget=forms.Textarea(attrs={"rows": 2}))


class ChurnResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[c for c in ChurnOutcome.choices if c[0] != ChurnOutcome.OPEN]
    )
    effective_date = bounds.DateField(label=_("Effective on"), widget=DateInput(), initial=timezone.localdate)
    subscription = forms.ModelChoiceField(label=_("Subscription that goes down"), queryset=None, required=False)
    new_amount = forms.DecimalField(
        label=_("New amount per billing period (R$)"),
        min_value=0,
        max_value=bounds.MAX_CENTS // 100,
        decimal_places=2,
        required=False,
    )

    def __init__(self, *args, subscriptions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subscription"].queryset = subscriptions

    def clean(self):
        data = super().clean()
        if data.get("outcome") == ChurnOutcome.DOWNSELL and (
            not data.get("subscription") or data.get("new_amount") is None
        ):
            raise forms.ValidationError(_("For a downsell, choose the subscription and its new amount."))
        return data


class UtiExitForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[c for c in UtiExit.choices if c[0] != UtiExit.OPEN])
    notes = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


BULK_LIMIT = 5000


class BulkSelectionForm(forms.Form):
    """The customers a bulk action of the portfolio list acts on (reassignment, and the actions of core.bulk):
    those ticked (``customers``), or, with ``all_matching``, every customer the list's ``filters`` match.
    "All matching" is computed here from the filters, through the door again (what the person may change),
    never from ids the browser sends. ``cleaned_data["selection"]`` is that queryset."""

    all_matching = forms.BooleanField(required=False)
    filters = forms.CharField(required=False, max_length=2000)
    # Ticked customers the person may not change are left out (an action that starts something on each), or
    # refuse the whole request (reassignment: all or nothing).
    refuse_unknown = False

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def _ticked(self) -> QuerySet:
        raw = self.data.getlist("customers") if hasattr(self.data, "getlist") else self.data.get("customers", [])
        ids = {int(i) for i in raw if str(i).isdigit()}
        if not ids:
            raise ValidationError(_("Tick the customers, or select all those matching the filters."))
        if len(ids) > BULK_LIMIT:
            raise ValidationError(_("Too many customers ticked: select all those matching the filters instead."))
        selection = customers_changeable_by(self.user).filter(pk__in=ids)
        if self.refuse_unknown and selection.count() != len(ids):
            raise ValidationError(_("Some of these customers are not yours to change: nothing was done."))
        return selection

    def clean(self):
        data = super().clean()
        if not data.get("all_matching"):
            data["selection"] = self._ticked()
            return data
        _form, filters = portfolio_filters(self.user, QueryDict(data.get("filters") or ""))
        if filters is None:
            raise ValidationError(_("These filters are no longer valid: filter the list again."))
        selection: QuerySet = customers_matching(self.user, filters)
        if selection.count() > BULK_LIMIT:
            limit = formats.number_format(BULK_LIMIT, force_grouping=True)
            raise ValidationError(_("At most %(limit)s customers at once: narrow the filters.") % {"limit": limit})
        data["selection"] = selection
        return data


class ReassignForm(BulkSelectionForm):
    to_owner = forms.ModelChoiceField(label=_("New CSM"), queryset=None)
    refuse_unknown = True

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_owner"].queryset = people


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name of the view"), max_length=80)


class OpportunityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=OpportunityKind.choices)
    source = forms.ChoiceField(label=_("Source"), choices=OpportunitySource.choices)
    title = forms.CharField(label=_("What"), max_length=200)
    mrr = forms.DecimalField(
        label=_("MRR value (R$)"), min_value=Decimal("0.01"), max_value=bounds.MAX_CENTS // 100, decimal_places=2
    )


class OpportunityCloseForm(forms.Form):
    """Won (the subscription that grows, for an upsell; the product, for a cross-sell) or lost. The result is
    required: a POST without one closes nothing."""

    result = forms.ChoiceField(
        label=_("Result"), choices=[(OpportunityStage.WON, _("Won")), (OpportunityStage.LOST, _("Lost"))]
    )
    subscription = forms.ModelChoiceField(label=_("Subscription that grows"), queryset=None, required=False)
    product = forms.CharField(label=_("Product"), max_length=100, required=False)

    def __init__(self, *args, subscriptions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subscription"].queryset = subscriptions


class ImportForm(CsvUploadForm):
    field_order = ["kind", "file"]
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[("customers", _("Customers")), ("contacts", _("Contacts")), ("subscriptions", _("Subscriptions"))],
    )


class TaskFilterForm(forms.Form):
    """My tasks' filters. ``person`` lists whose tasks the reader may see: themselves, a leader's team and its
    people."""

    tab = forms.ChoiceField(choices=[("open", _("Open")), ("done", _("Done"))], required=False)
    person = forms.ChoiceField(label=_("Whose"), required=False)
    customer = forms.CharField(label=_("Customer"), required=False, max_length=100)
    origin = forms.ChoiceField(label=_("Origin"), required=False)
    due_from = bounds.DateField(label=_("Due from"), widget=DateInput(), required=False)
    due_to = bounds.DateField(label=_("Due until"), widget=DateInput(), required=False)
    q = forms.CharField(label=_("Search tasks"), required=False, max_length=100)

    def __init__(self, *args, people=(), leads=False, origins=(), me=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Mine"))]
        if leads:
            choices.append(("team", _("The whole team")))
        choices += [(str(p.pk), p.full_name) for p in people if p != me]
        self.fields["person"].choices = choices
        self.fields["origin"].choices = [("", _("Every origin")), *origins]


class TaskSnoozeForm(forms.Form):
    """+1 day, +1 week (``days``) or a chosen day (``due_date``)."""

    days = forms.TypedChoiceField(choices=[(1, "1"), (7, "7")], coerce=int, required=False, empty_value=None)
    due_date = bounds.DateField(label=_("Another day"), widget=DateInput(), required=False)

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("days") is None and data.get("due_date") is None:
            raise forms.ValidationError(_("Choose how long to snooze the task, or a day."))
        return data


class TaskReassignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Hand over to"), queryset=None)

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people


class RenewalFilterForm(forms.Form):
    window = forms.TypedChoiceField(
        label=_("Renewing within"),
        coerce=int,
        choices=[(30, _("30 days")), (60, _("60 days")), (90, _("90 days"))],
        required=False,
        empty_value=None,
    )
    owner = forms.TypedChoiceField(label=_("CSM"), coerce=int, empty_value=None, required=False)
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in RENEWAL_SORTS])

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("All CSMs")), *[(u.pk, u.full_name) for u in owners]]
