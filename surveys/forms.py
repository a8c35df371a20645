"""Forms validate input and show errors in the user's language; surveys.services applies the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.access import campaign_teams, default_campaign_team
from accounts.models import Team
from core import bounds
from portfolio.forms import ImportForm
from portfolio.models import ContactRole, PlanTier, Segment, ServiceModel, Stage
from surveys.models import CampaignMode, CampaignStatus, EmployeeAudience, SurveyKind, Trigger
from surveys.services import DEFAULT_QUESTIONS
from surveys.settings_selectors import survey_defaults

COMPANY = "Leme"  # what campaign_create puts in the standard questions


def default_questions(kind: str) -> tuple[str, str]:
    pt, en = DEFAULT_QUESTIONS[SurveyKind(kind)]
    return pt.format(company=COMPANY), en.format(company=COMPANY)


def _is_a_default(text: str) -> bool:
    """Whether a question is still some kind's standard text, i.e. nobody wrote it."""
    text = (text or "").strip()
    return not text or any(text in default_questions(kind) for kind in SurveyKind.values)


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    kind = forms.ChoiceField(label=_("Survey"), choices=SurveyKind.choices, initial=SurveyKind.NPS)
    scale_max = forms.TypedChoiceField(
        label=_("CSAT scale"),
        choices=[(5, _("1 to 5")), (10, _("1 to 10"))],
        coerce=int,
        initial=5,
        help_text=_("Satisfied = the top two answers."),
    )
    question_pt = forms.CharField(label=_("Question in Portuguese"), max_length=300, widget=forms.Textarea({"rows": 2}))
    question_en = forms.CharField(label=_("Question in English"), max_length=300, widget=forms.Textarea({"rows": 2}))

    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=None,
        required=False,
        empty_label=_("Company-wide (every team)"),
        help_text=_("The campaign reaches only this team's customers (eNPS: its people)."),
    )
    segments = forms.MultipleChoiceField(
        label=_("Segments"), choices=Segment.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    stages = forms.MultipleChoiceField(
        label=_("Stages"),
        choices=[c for c in Stage.choices if c[0] != Stage.CHURNED],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    service_models = forms.MultipleChoiceField(
        label=_("Service models"), choices=ServiceModel.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    plan_tiers = forms.MultipleChoiceField(
        label=_("Plans"), choices=PlanTier.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    contact_roles = forms.MultipleChoiceField(
        label=_("Contact roles"), choices=ContactRole.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    owners = forms.ModelMultipleChoiceField(
        label=_("CSMs"), queryset=None, widget=forms.CheckboxSelectMultiple, required=False
    )
    employees = forms.ChoiceField(
        label=_("eNPS asks"),
        choices=EmployeeAudience.choices,
        initial=EmployeeAudience.USERS,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("The imported list holds the company's people who do not use Leme."),
    )

    mode = forms.ChoiceField(
        label=_("When"), choices=CampaignMode.choices, initial=CampaignMode.NOW, widget=forms.RadioSelect
    )
    send_at = bounds.DateTimeField(
        label=_("Date and time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    every_days = forms.IntegerField(label=_("Ask each contact again every (days)"), min_value=1, required=False)
    trigger = forms.ChoiceField(label=_("Which event"), choices=[("", "—"), *Trigger.choices], required=False)

    fatigue_days = forms.IntegerField(
        label=_("Fatigue rule (days)"),
        min_value=0,
        initial=90,
        help_text=_("Nobody is surveyed more than once in this many days."),
    )
    reminder_after_days = forms.IntegerField(
        label=_("Remind after (days)"), min_value=0, initial=4, help_text=_("0 sends no reminder.")
    )
    expires_after_days = forms.IntegerField(
        label=_("Links expire after (days)"), min_value=1, initial=30, help_text=_("Answers are taken until then.")
    )

    AUDIENCE = ("segments", "stages", "service_models", "plan_tiers", "contact_roles", "owners")

    def __init__(self, *args, owners=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owners"].queryset = owners
        self.user_is_admin = bool(user is not None and user.is_admin)
        team = self.fields["team"]
        team.queryset = campaign_teams(user).order_by("name") if user is not None else Team.objects.none()
        if user is not None and not user.is_admin:
            # Company-wide campaigns are for admins: a leader picks one of their teams (none said: their own).
            team.empty_label = None
        if user is not None and not self.is_bound:
            default = default_campaign_team(user)
            self.initial.setdefault("team", default.pk if default else None)
        kind = self.data.get("kind") if self.is_bound else self.initial.get("kind")
        kind = kind if kind in SurveyKind.values else SurveyKind.NPS
        if not self.is_bound:
            workspace = survey_defaults()
            for name in ("fatigue_days", "reminder_after_days", "expires_after_days"):
                self.initial.setdefault(name, getattr(workspace, name))
            pt, en = default_questions(kind)
            self.initial.setdefault("question_pt", pt)
            self.initial.setdefault("question_en", en)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind:
            # The kind was changed without JavaScript: a standard question follows the kind; one someone
            # wrote stays as written.
            pt, en = default_questions(kind)
            for name, default in (("question_pt", pt), ("question_en", en)):
                if _is_a_default(self.data.get(name, "")):
                    data[name] = default
                    self.errors.pop(name, None)
        if kind != SurveyKind.CSAT:
            # Only CSAT has a choice of scale; the service fixes the others.
            data["scale_max"] = 5
            self.errors.pop("scale_max", None)
        return data

    def service_arguments(self) -> dict:
        """What surveys.services.campaign_create takes."""
        data = self.cleaned_data
        audience = {key: list(data.get(key) or []) for key in self.AUDIENCE}
        audience["owners"] = [u.pk for u in data.get("owners") or []]
        if data["kind"] == SurveyKind.ENPS:
            audience["employees"] = data.get("employees") or EmployeeAudience.USERS
        mode = data["mode"]
        # A leader who names no team gets their own (the service's default); an admin's empty choice is
        # company-wide.
        team = {"team": data.get("team")} if data.get("team") or self.user_is_admin else {}
        return {
            **team,
            "name": data["name"],
            "kind": data["kind"],
            "question_pt": data["question_pt"],
            "question_en": data["question_en"],
            "audience": audience,
            "mode": mode,
            "send_at": data.get("send_at") if mode == CampaignMode.AT else None,
            "every_days": data.get("every_days") if mode == CampaignMode.RECURRING else None,
            "trigger": (data.get("trigger") or "") if mode == CampaignMode.TRANSACTIONAL else "",
            "fatigue_days": data["fatigue_days"],
            "reminder_after_days": data["reminder_after_days"],
            "expires_after_days": data["expires_after_days"],
            "scale_max": data["scale_max"],
        }

    def questions_for(self, kind: str) -> dict:
        """The question fields after the kind changed (htmx): standard questions follow the kind."""
        pt, en = default_questions(kind)
        current_pt, current_en = self.data.get("question_pt", ""), self.data.get("question_en", "")
        return {
            "question_pt": pt if _is_a_default(current_pt) else current_pt,
            "question_en": en if _is_a_default(current_en) else current_en,
        }


class CampaignFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Survey"), choices=[("", _("All surveys")), *SurveyKind.choices], required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All statuses")), *CampaignStatus.choices], required=False
    )


class CommentFilterForm(forms.Form):
    band = forms.ChoiceField(label=_("Answers"), required=False)
    segment = forms.ChoiceField(label=_("Segment"), choices=[("", _("All segments")), *Segment.choices], required=False)
    owner = forms.TypedChoiceField(label=_("CSM"), coerce=int, empty_value=None, required=False)
    waiting = forms.BooleanField(label=_("Only detractors waiting for a call"), required=False)
    page = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args, bands=(), owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["band"].choices = [("", _("All answers")), *[(b.key, b.label) for b in bands]]
        self.fields["owner"].choices = [("", _("All CSMs")), *owners]


PERIODS = [(3, _("Last 3 months")), (6, _("Last 6 months")), (12, _("Last 12 months")), (24, _("Last 24 months"))]


class OverviewForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Period"), choices=PERIODS, coerce=int, empty_value=None, initial=12, required=False
    )
    scale = forms.TypedChoiceField(
        label=_("CSAT scale"),
        choices=[(5, _("1 to 5")), (10, _("1 to 10"))],
        coerce=int,
        empty_value=None,
        initial=5,
        required=False,
    )


class EmployeeImportForm(ImportForm):
    """The CSV of employees who do not use Leme (the same upload rules as the portfolio import)."""

    kind = None
