"""The survey defaults, changed on the Settings page by admins (accounts.access.can_change_settings) and recorded
with who, when and what they affect. A campaign copies the defaults when it is created, so a change applies to
campaigns created from now on and to no campaign already made."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import can_change_settings, ensure_can_write
from accounts.models import User
from accounts.settings_services import setting_change_record
from surveys.models import SurveyDefaults
from surveys.settings_selectors import survey_defaults

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
    ensure_can_write(actor)
    if actor is not None and not can_change_settings(actor):
        raise PermissionDenied(_("Only admins change the workspace's settings."))
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
    SurveyDefaults.objects.select_for_update().filter(pk=1).first()
    defaults = survey_defaults()
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
