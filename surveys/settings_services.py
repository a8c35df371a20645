"""The survey defaults, changed on the Settings page by admins (accounts.access.can_change_settings) and recorded
with who, when and what they affect. A campaign copies the defaults when it is created, so a change applies to
campaigns created from now on and to no campaign already made."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import ensure_can_change_settings
from accounts.models import User
from accounts.settings_services import setting_change_record
from surveys.models import ChiCriterion, SurveyDefaults

SURVEYS = "surveys"
DEFAULTS_EFFECT = gettext_lazy(
    "Applies to survey campaigns created from now on; campaigns already created keep their own values."
)
LIMITS = {"fatigue_days": (0, 365), "reminder_after_days": (0, 60), "expires_after_days": (1, 180)}


@transaction.atomic
def survey_defaults_update(
    *, fatigue_days: int, reminder_after_days: int, expires_after_days: int, actor: User | None
) -> SurveyDefaults:
    """Change the defaults new campaigns start from (admins only). The reminder must go out while the link still
    works, and the default fatigue rule cannot ask contacts more often than the workspace's own rule
    (``LEME_SURVEY_FATIGUE_DAYS``), which a campaign may break only with a leader's confirmation."""
    ensure_can_change_settings(actor)
    values = {
        "fatigue_days": fatigue_days,
        "reminder_after_days": reminder_after_days,
        "expires_after_days": expires_after_days,
    }
    errors: dict[str, str] = {}
    for name, (low, high) in LIMITS.items():
        if not low <= values[name] <= high:
            errors[name] = _("Between %(low)s and %(high)s.") % {"low": low, "high": high}
    if "fatigue_days" not in errors and fatigue_days < settings.LEME_SURVEY_FATIGUE_DAYS:
        errors["fatigue_days"] = _(
            "The workspace's fatigue rule is %(days)s days: the default cannot survey contacts more often."
        ) % {"days": settings.LEME_SURVEY_FATIGUE_DAYS}
    if not errors and reminder_after_days and reminder_after_days >= expires_after_days:
        errors["reminder_after_days"] = _(
            "The reminder must go out before the link expires: fewer than %(days)s days (0: no reminder)."
        ) % {"days": expires_after_days}
    if errors:
        raise ValidationError(errors)
    # The one row, locked while it changes so two admins saving at once each record what they replaced.
    defaults = SurveyDefaults.objects.select_for_update().filter(pk=1).first() or SurveyDefaults(pk=1)
    before = {name: getattr(defaults, name) for name in values}
    for name, value in values.items():
        setattr(defaults, name, value)
    defaults.save()
    fields = SurveyDefaults._meta
    setting_change_record(
        area=SURVEYS,
        subject=gettext_lazy("Defaults for new campaigns"),
        changes=[(fields.get_field(name).verbose_name, before[name], values[name]) for name in values],
        effect=DEFAULTS_EFFECT,
        actor=actor,
    )
    return defaults


# --- CHI criteria ----------------------------------------------------------------------------------------------

CHI = "chi"
CHI_EFFECT = gettext_lazy(
    "Applies to CHI answers and assessments given from now on; those already given keep their answers and score."
)
CHI_POSITIONS = range(1, 11)


@transaction.atomic
def chi_criterion_save(
    *, position: int, text_pt: str, text_en: str, answered_by: str, actor: User | None
) -> ChiCriterion:
    """Word, or add, the CHI criterion at ``position`` (1 to 10), in both languages, and say who answers it
    (admins only). Answers are kept by position with their score, so a change applies to what is answered from
    now on; a criterion is reworded, never removed, so an old answer never lands on another question."""
    ensure_can_change_settings(actor)
    text_pt, text_en = (text_pt or "").strip(), (text_en or "").strip()
    errors: dict[str, str] = {}
    if position not in CHI_POSITIONS:
        errors["position"] = _("Between %(low)s and %(high)s.") % {"low": 1, "high": 10}
    if not text_pt:
        errors["text_pt"] = _("Write the criterion in Portuguese.")
    if not text_en:
        errors["text_en"] = _("Write the criterion in English.")
    if answered_by not in ChiCriterion.AnsweredBy.values:
        errors["answered_by"] = _("Say who answers it.")
    if errors:
        raise ValidationError(errors)
    criterion = ChiCriterion.objects.select_for_update().filter(position=position).first()
    before = (
        {"text_pt": criterion.text_pt, "text_en": criterion.text_en, "answered_by": criterion.answered_by}
        if criterion
        else {"text_pt": None, "text_en": None, "answered_by": None}
    )
    criterion = criterion or ChiCriterion(position=position)
    criterion.text_pt, criterion.text_en, criterion.answered_by = text_pt, text_en, answered_by
    criterion.save()
    who = dict(ChiCriterion.AnsweredBy.choices)
    setting_change_record(
        area=CHI,
        subject=f"CHI {position}",
        changes=[
            (gettext_lazy("Criterion in Portuguese"), before["text_pt"], text_pt),
            (gettext_lazy("Criterion in English"), before["text_en"], text_en),
            (
                gettext_lazy("Answered by"),
                who.get(before["answered_by"]) if before["answered_by"] else None,
                who[answered_by],
            ),
        ],
        effect=CHI_EFFECT,
        actor=actor,
    )
    return criterion


@transaction.atomic
def chi_criterion_add(
    *, position: int, text_pt: str, text_en: str, answered_by: str, actor: User | None
) -> ChiCriterion:
    """A new CHI criterion at a free ``position`` (admins only); a taken position is refused, so adding never
    rewords a criterion already answered (that is :func:`chi_criterion_save` on purpose)."""
    ensure_can_change_settings(actor)
    if ChiCriterion.objects.select_for_update().filter(position=position).exists():
        raise ValidationError({"position": _("This position already has a criterion: reword it instead.")})
    return chi_criterion_save(position=position, text_pt=text_pt, text_en=text_en, answered_by=answered_by, actor=actor)
