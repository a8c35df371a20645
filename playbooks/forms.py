"""The playbook editor's forms: the playbook's settings (trigger, audience, exit goal) and one form per kind
of step. Each turns what was typed into what ``playbooks.services`` stores."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from playbooks import emails
from playbooks.models import DATE_TRIGGERS, ExitGoal, PlaybookVersion, TriggerKind
from playbooks.steps import Assignee, Band, Check, StepKind
from portfolio.models import ContactRole, PlanTier, Segment, ServiceModel, Stage


class PlaybookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("Company-wide"),
        help_text=_("A team's playbook applies to that team's customers."),
    )
    trigger_kind = forms.ChoiceField(label=_("Starts when"), choices=TriggerKind.choices)
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[("", "—"), *Stage.choices], required=False, help_text=_("For “Stage changed to…”.")
    )
    band = forms.ChoiceField(
        label=_("Health band"),
        choices=[("", "—"), *Band.choices],
        required=False,
        help_text=_("For “Health band changed to…”."),
    )
    days = forms.IntegerField(
        label=_("N days"), min_value=1, max_value=365, required=False, help_text=_("For the date triggers.")
    )
    service_models = forms.MultipleChoiceField(
        label=_("Service models"), choices=ServiceModel.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    segments = forms.MultipleChoiceField(
        label=_("Segments"), choices=Segment.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    stages = forms.MultipleChoiceField(
        label=_("Stages"), choices=Stage.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    plan_tiers = forms.MultipleChoiceField(
        label=_("Plans"), choices=PlanTier.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    mrr_min = forms.DecimalField(label=_("MRR from (R$)"), min_value=0, decimal_places=2, required=False)
    mrr_max = forms.DecimalField(label=_("MRR up to (R$)"), min_value=0, decimal_places=2, required=False)
    exit_goal = forms.ChoiceField(label=_("Exit goal"), choices=ExitGoal.choices, required=False)
    cooldown_days = forms.IntegerField(label=_("Cool-down (days)"), min_value=0, max_value=365, initial=30)

    def __init__(self, *args, teams=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if teams is None:
            del self.fields["team"]
        else:
            self.fields["team"].queryset = teams

    @classmethod
    def initial_from(cls, playbook, version: PlaybookVersion | None) -> dict:
        initial = {
            "name": playbook.name,
            "description": playbook.description,
            "team": playbook.team_id,
            "cooldown_days": playbook.cooldown_days,
        }
        if version is not None:
            params = version.trigger_params or {}
            initial.update(
                trigger_kind=version.trigger_kind,
                stage=params.get("stage", ""),
                band=params.get("band", ""),
                days=params.get("days"),
                service_models=version.service_models,
                segments=version.segments,
                stages=version.stages,
                plan_tiers=version.plan_tiers,
                mrr_min=Decimal(version.mrr_min_cents) / 100 if version.mrr_min_cents is not None else None,
                mrr_max=Decimal(version.mrr_max_cents) / 100 if version.mrr_max_cents is not None else None,
                exit_goal=version.exit_goal,
            )
        return initial

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("trigger_kind")
        if kind == TriggerKind.STAGE_CHANGED and not data.get("stage"):
            self.add_error("stage", _("Choose the stage that starts the playbook."))
        if kind == TriggerKind.HEALTH_BAND_CHANGED and not data.get("band"):
            self.add_error("band", _("Choose the band that starts the playbook."))
        if kind in DATE_TRIGGERS and not data.get("days"):
            self.add_error("days", _("Say how many days ahead (or without a touch)."))
        low, high = data.get("mrr_min"), data.get("mrr_max")
        if low is not None and high is not None and low > high:
            self.add_error("mrr_max", _("The top of the MRR range is below its bottom."))
        return data

    def version_fields(self) -> dict:
        data = self.cleaned_data
        kind = data["trigger_kind"]
        params = {}
        if kind == TriggerKind.STAGE_CHANGED:
            params = {"stage": data["stage"]}
        elif kind == TriggerKind.HEALTH_BAND_CHANGED:
            params = {"band": data["band"]}
        elif kind in DATE_TRIGGERS:
            params = {"days": data["days"]}
        cents = {k: int(data[k] * 100) if data.get(k) is not None else None for k in ("mrr_min", "mrr_max")}
        return {
            "trigger_kind": kind,
            "trigger_params": params,
            "service_models": data["service_models"],
            "segments": data["segments"],
            "stages": data["stages"],
            "plan_tiers": data["plan_tiers"],
            "mrr_min_cents": cents["mrr_min"],
            "mrr_max_cents": cents["mrr_max"],
            "exit_goal": data.get("exit_goal") or "",
        }


class TaskStepForm(forms.Form):
    kind = StepKind.TASK
    title = forms.CharField(label=_("Task title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    assignee = forms.ChoiceField(label=_("Assigned to"), choices=Assignee.choices, initial=Assignee.OWNER)
    due_days = forms.IntegerField(label=_("Due after (business days)"), min_value=0, max_value=60, initial=2)


class WaitStepForm(forms.Form):
    kind = StepKind.WAIT
    days = forms.IntegerField(label=_("Wait (days)"), min_value=1, max_value=365)


class ConditionStepForm(forms.Form):
    kind = StepKind.CONDITION
    check = forms.ChoiceField(
        label=_("Carry on only while"),
        choices=Check.choices,
        help_text=_("When it no longer holds, the run ends here."),
    )


FIELDS_HELP = _(
    "Fields: {{ contact.first_name }}, {{ contact.name }}, {{ customer.name }}, {{ csm.name }}, {{ csm.first_name }},"
    ' {{ csm.email }}. A fallback for an empty field: {{ contact.first_name|default:"there" }}.'
)


class EmailStepForm(forms.Form):
    """An email to the customer's contacts in a role, written in Portuguese, English or both: each contact gets
    their language's, or the other when theirs is empty."""

    kind = StepKind.EMAIL
    template = forms.CharField(label=_("Email name"), max_length=120, help_text=_("For you: shown in the steps."))
    contact_role = forms.ChoiceField(label=_("To the contacts who are"), choices=ContactRole.choices)
    subject_pt = forms.CharField(label=_("Subject (Portuguese)"), max_length=200, required=False)
    body_pt = forms.CharField(
        label=_("Text (Portuguese)"), required=False, widget=forms.Textarea(attrs={"rows": 6}), help_text=FIELDS_HELP
    )
    subject_en = forms.CharField(label=_("Subject (English)"), max_length=200, required=False)
    body_en = forms.CharField(label=_("Text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 6}))

    def clean(self) -> dict:
        data = super().clean()
        for key in emails.TEXT_KEYS:
            for error in emails.template_errors(data.get(key) or ""):
                self.add_error(key, error)
        filled = [lang for lang in ("pt", "en") if data.get(f"subject_{lang}") and data.get(f"body_{lang}")]
        half = [lang for lang in ("pt", "en") if bool(data.get(f"subject_{lang}")) != bool(data.get(f"body_{lang}"))]
        for lang in half:
            self.add_error(f"body_{lang}" if data.get(f"subject_{lang}") else f"subject_{lang}", _("Write both."))
        if not filled and not half:
            self.add_error("subject_pt", _("Write the subject and text in at least one language."))
        return data


STEP_FORMS: dict[str, type[forms.Form]] = {
    StepKind.TASK: TaskStepForm,
    StepKind.WAIT: WaitStepForm,
    StepKind.CONDITION: ConditionStepForm,
    StepKind.EMAIL: EmailStepForm,
}


def step_forms(bound: forms.Form | None = None) -> list[tuple[str, str, forms.Form]]:
    """(kind, label, form) for every kind of step, the bound one (with its errors) in its place."""
    result = []
    for kind, form_class in STEP_FORMS.items():
        form = bound if bound is not None and bound.kind == kind else form_class(prefix=kind)
        result.append((kind, StepKind(kind).label, form))
    return result


class StartForm(forms.Form):
    playbook = forms.ModelChoiceField(label=_("Playbook"), queryset=None, empty_label="—")

    def __init__(self, *args, playbooks, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["playbook"].queryset = playbooks
