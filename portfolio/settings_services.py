"""The journey's Settings, changed on Leme's own pages: the service-model policies and the churn reason taxonomy.

Every change is the admins' (``accounts.access.can_change_settings``), checked here so the page and any other
caller share the rule, and recorded with who, when and what it affects (``accounts.settings_services``).

A change applies from now on and never rewrites a journey already running: milestones are dated when a customer
enters onboarding, a review when the previous one is held (or at the handoff), a UTI stay's end when it starts.
So a policy change moves no date already set, and a retired churn reason stays on the requests that name it (and
in their metrics) while new requests can no longer pick it. A reason in use is retired, never deleted.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import ensure_can_change_settings
from accounts.models import User
from accounts.settings_services import setting_change_record
from portfolio.models import ChurnCategory, ChurnReason, ChurnRequest, ServiceModel, ServiceModelPolicy
from portfolio.services.policies import policy_for
from portfolio.taxonomy import INVOLUNTARY_REASON

JOURNEY = "journey"
CHURN_REASONS = "churn_reasons"

# What each policy change affects, said on the page beside the field and kept in the history.
ONBOARDING_EFFECT = gettext_lazy(
    "Applies to customers who enter onboarding from now on; customers already in onboarding keep their target dates."
)
REVIEW_EFFECT = gettext_lazy(
    "Applies to success reviews scheduled from now on (at a handoff or when a review is held); reviews already "
    "scheduled keep their date."
)
HANDOFF_EFFECT = gettext_lazy("Applies to handoffs recorded from now on.")
UTI_EFFECT = gettext_lazy("Applies to UTI stays that start from now on; customers in UTI keep their end date.")
RETIRE_EFFECT = gettext_lazy(
    "New churn requests no longer offer it; the requests that name it keep it, and so do the metrics."
)
RESTORE_EFFECT = gettext_lazy("New churn requests offer it again.")
RETIRE_CATEGORY_EFFECT = gettext_lazy(
    "New churn requests no longer offer its reasons; the requests that name them keep them, and so do the metrics."
)
RESTORE_CATEGORY_EFFECT = gettext_lazy("New churn requests offer its reasons that are not retired again.")
RENAME_EFFECT = gettext_lazy("The churn requests that name it, and the metrics, show the new name.")
NEW_REASON_EFFECT = gettext_lazy("New churn requests offer it from now on.")

POLICY_LIMITS = {
    "first_value_days": (1, 365),
    "first_success_days": (1, 730),
    "review_every_months": (1, 24),
    "uti_days": (7, 180),
}


def _check_policy(values: dict) -> None:
    errors: dict[str, str] = {}
    for name, (low, high) in POLICY_LIMITS.items():
        value = values[name]
        if value is None:
            continue
        if not low <= value <= high:
            errors[name] = _("Between %(low)s and %(high)s.") % {"low": low, "high": high}
    both_fine = "first_value_days" not in errors and "first_success_days" not in errors
    if both_fine and values["first_success_days"] < values["first_value_days"]:
        errors["first_success_days"] = _("First success comes after first value: give it at least %(days)s days.") % {
            "days": values["first_value_days"]
        }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def policy_update(
    *,
    service_model: str,
    first_value_days: int,
    first_success_days: int,
    review_every_months: int | None,
    handoff_by_meeting: bool,
    uti_days: int,
    actor: User | None,
) -> ServiceModelPolicy:
    """Change one service model's journey policy (admins only). It dates what starts from now on: the journeys
    already running keep their dates (see the module's docstring). Each changed field is recorded with what it
    affects; a save that changes nothing records nothing."""
    ensure_can_change_settings(actor)
    if service_model not in ServiceModel.values:
        raise ValidationError({"service_model": _("Pick a service model.")})
    values = {
        "first_value_days": first_value_days,
        "first_success_days": first_success_days,
        "review_every_months": review_every_months or None,
        "handoff_by_meeting": bool(handoff_by_meeting),
        "uti_days": uti_days,
    }
    _check_policy(values)
    existing = ServiceModelPolicy.objects.select_for_update().filter(service_model=service_model).first()
    policy = existing or policy_for(service_model)
    before = {name: getattr(policy, name) for name in values}
    for name, value in values.items():
        setattr(policy, name, value)
    policy.save()
    fields = ServiceModelPolicy._meta
    effects = {
        "first_value_days": ONBOARDING_EFFECT,
        "first_success_days": ONBOARDING_EFFECT,
        "review_every_months": REVIEW_EFFECT,
        "handoff_by_meeting": HANDOFF_EFFECT,
        "uti_days": UTI_EFFECT,
    }
    setting_change_record(
        area=JOURNEY,
        subject=ServiceModel(service_model).label,
        changes=[(fields.get_field(name).verbose_name, before[name], values[name], effects[name]) for name in values],
        actor=actor,
    )
    return policy


# --- The churn reason taxonomy -----------------------------------------------------------------------------------


def _unique_code(model, text: str) -> str:
    base = slugify(text)[:40] or "reason"
    code, n = base, 2
    while model.objects.filter(code=code).exists():
        code, n = f"{base}-{n}", n + 1
    return code


def _clean_names(name_pt: str, name_en: str) -> tuple[str, str]:
    name_pt, name_en = (name_pt or "").strip(), (name_en or "").strip()
    errors = {}
    if not name_pt:
        errors["name_pt"] = _("Give the name in Portuguese.")
    if not name_en:
        errors["name_en"] = _("Give the name in English.")
    if errors:
        raise ValidationError(errors)
    return name_pt, name_en


@transaction.atomic
def churn_category_create(*, name_pt: str, name_en: str, actor: User | None) -> ChurnCategory:
    """A new family of churn reasons (admins only); its reasons are added one by one."""
    ensure_can_change_settings(actor)
    name_pt, name_en = _clean_names(name_pt, name_en)
    if ChurnCategory.objects.filter(name_pt__iexact=name_pt).exists():
        raise ValidationError({"name_pt": _("There is already a category with this name.")})
    category = ChurnCategory.objects.create(code=_unique_code(ChurnCategory, name_en), name_pt=name_pt, name_en=name_en)
    setting_change_record(
        area=CHURN_REASONS,
        subject=gettext_lazy("New category"),
        changes=[(gettext_lazy("Category"), None, f"{name_pt} / {name_en}")],
        actor=actor,
    )
    return category


def _category_subject(category: ChurnCategory) -> str:
    return f"{category.name_pt} / {category.name_en}"


@transaction.atomic
def churn_category_rename(*, category: ChurnCategory, name_pt: str, name_en: str, actor: User | None) -> ChurnCategory:
    """New names for a category (admins only): the requests that name its reasons show them from now on."""
    ensure_can_change_settings(actor)
    category = ChurnCategory.objects.select_for_update().get(pk=category.pk)
    name_pt, name_en = _clean_names(name_pt, name_en)
    if ChurnCategory.objects.filter(name_pt__iexact=name_pt).exclude(pk=category.pk).exists():
        raise ValidationError({"name_pt": _("There is already a category with this name.")})
    before = (category.name_pt, category.name_en)
    category.name_pt, category.name_en = name_pt, name_en
    category.save(update_fields=["name_pt", "name_en"])
    setting_change_record(
        area=CHURN_REASONS,
        subject=_category_subject(category),
        changes=[
            (gettext_lazy("Name in Portuguese"), before[0], name_pt),
            (gettext_lazy("Name in English"), before[1], name_en),
        ],
        effect=RENAME_EFFECT,
        actor=actor,
    )
    return category


def _ensure_not_the_involuntary_category(category: ChurnCategory) -> None:
    if category.reasons.filter(code=INVOLUNTARY_REASON).exists():
        raise ValidationError(
            _(
                "Leme opens the involuntary churn requests of delinquent customers with a reason of this category: "
                "it stays."
            )
        )


@transaction.atomic
def churn_category_retire(*, category: ChurnCategory, actor: User | None) -> ChurnCategory:
    """Take a whole category out of new churn requests (admins only): none of its reasons is offered any more.
    The requests that name them keep them, and so do the metrics: a category in use is retired, never deleted."""
    ensure_can_change_settings(actor)
    category = ChurnCategory.objects.select_for_update().get(pk=category.pk)
    _ensure_not_the_involuntary_category(category)
    return _category_offered(category, offered=False, effect=RETIRE_CATEGORY_EFFECT, actor=actor)


@transaction.atomic
def churn_category_restore(*, category: ChurnCategory, actor: User | None) -> ChurnCategory:
    """Offer a retired category's reasons again (admins only); its retired reasons stay retired."""
    ensure_can_change_settings(actor)
    category = ChurnCategory.objects.select_for_update().get(pk=category.pk)
    return _category_offered(category, offered=True, effect=RESTORE_CATEGORY_EFFECT, actor=actor)


def _category_offered(category: ChurnCategory, *, offered: bool, effect, actor: User | None) -> ChurnCategory:
    if category.active == offered:
        return category
    category.active = offered
    category.save(update_fields=["active"])
    setting_change_record(
        area=CHURN_REASONS,
        subject=_category_subject(category),
        changes=[(gettext_lazy("Offered in new churn requests"), not offered, offered)],
        effect=effect,
        actor=actor,
    )
    return category


@transaction.atomic
def churn_category_delete(*, category: ChurnCategory, actor: User | None) -> None:
    """Delete a category with no reasons (added by mistake); admins only. One with reasons is refused: delete the
    reasons no request ever named first, or retire the category, so the requests that name its reasons keep them."""
    ensure_can_change_settings(actor)
    category = ChurnCategory.objects.select_for_update().get(pk=category.pk)
    if category.reasons.exists():
        raise ValidationError(
            _(
                "“%(category)s” has reasons: it cannot be deleted. Retire it instead: new requests will no longer "
                "offer them."
            )
            % {"category": category.name_pt}
        )
    subject = _category_subject(category)
    category.delete()
    setting_change_record(
        area=CHURN_REASONS,
        subject=gettext_lazy("Category deleted"),
        changes=[(gettext_lazy("Category"), subject, None)],
        actor=actor,
    )


@transaction.atomic
def churn_reason_create(
    *, category: ChurnCategory, name_pt: str, name_en: str, needs_detail: bool = False, actor: User | None
) -> ChurnReason:
    """A new specific reason within ``category`` (admins only). Vague reasons are what the taxonomy exists to
    avoid: the page asks for a concrete one, and a reason that needs an explanation says so (``needs_detail``)."""
    ensure_can_change_settings(actor)
    name_pt, name_en = _clean_names(name_pt, name_en)
    if ChurnReason.objects.filter(category=category, name_pt__iexact=name_pt).exists():
        raise ValidationError({"name_pt": _("This category already has a reason with this name.")})
    reason = ChurnReason.objects.create(
        category=category,
        code=_unique_code(ChurnReason, name_en),
        name_pt=name_pt,
        name_en=name_en,
        needs_detail=bool(needs_detail),
    )
    setting_change_record(
        area=CHURN_REASONS,
        subject=gettext_lazy("New reason"),
        changes=[(gettext_lazy("Reason"), None, f"{category.name_pt} › {name_pt} / {name_en}")],
        effect=NEW_REASON_EFFECT,
        actor=actor,
    )
    return reason


@transaction.atomic
def churn_reason_rename(
    *, reason: ChurnReason, name_pt: str, name_en: str, needs_detail: bool, actor: User | None
) -> ChurnReason:
    """New names for a reason, and whether the CSM must explain it (admins only). The requests that name it show
    the new name; whether it must be explained applies to new requests."""
    ensure_can_change_settings(actor)
    reason = ChurnReason.objects.select_for_update().select_related("category").get(pk=reason.pk)
    name_pt, name_en = _clean_names(name_pt, name_en)
    if ChurnReason.objects.filter(category=reason.category, name_pt__iexact=name_pt).exclude(pk=reason.pk).exists():
        raise ValidationError({"name_pt": _("This category already has a reason with this name.")})
    before = (reason.name_pt, reason.name_en, reason.needs_detail)
    reason.name_pt, reason.name_en, reason.needs_detail = name_pt, name_en, bool(needs_detail)
    reason.save(update_fields=["name_pt", "name_en", "needs_detail"])
    setting_change_record(
        area=CHURN_REASONS,
        subject=f"{reason.category.name_pt} › {name_pt} / {name_en}",
        changes=[
            (gettext_lazy("Reason in Portuguese"), before[0], name_pt, RENAME_EFFECT),
            (gettext_lazy("Reason in English"), before[1], name_en, RENAME_EFFECT),
            (gettext_lazy("The CSM must explain it"), before[2], reason.needs_detail, NEW_REASON_EFFECT),
        ],
        actor=actor,
    )
    return reason


def churn_reason_in_use(reason: ChurnReason) -> int:
    """How many churn requests name ``reason``."""
    return ChurnRequest.objects.filter(reason=reason).count()


def _ensure_not_the_involuntary_reason(reason: ChurnReason) -> None:
    if reason.code == INVOLUNTARY_REASON:
        raise ValidationError(
            _("Leme opens the involuntary churn requests of delinquent customers with this reason: it stays.")
        )


@transaction.atomic
def churn_reason_retire(*, reason: ChurnReason, actor: User | None) -> ChurnReason:
    """Take a reason out of new churn requests (admins only). The requests that name it keep it, and so do the
    metrics: a reason is retired, never deleted, once it is in use."""
    ensure_can_change_settings(actor)
    reason = ChurnReason.objects.select_for_update().select_related("category").get(pk=reason.pk)
    _ensure_not_the_involuntary_reason(reason)
    return _reason_offered(reason, offered=False, effect=RETIRE_EFFECT, actor=actor)


@transaction.atomic
def churn_reason_restore(*, reason: ChurnReason, actor: User | None) -> ChurnReason:
    """Offer a retired reason again (admins only)."""
    ensure_can_change_settings(actor)
    reason = ChurnReason.objects.select_for_update().select_related("category").get(pk=reason.pk)
    return _reason_offered(reason, offered=True, effect=RESTORE_EFFECT, actor=actor)


def _reason_offered(reason: ChurnReason, *, offered: bool, effect, actor: User | None) -> ChurnReason:
    """Offer the reason in new churn requests, or stop offering it, with its line in the history."""
    if reason.active == offered:
        return reason
    reason.active = offered
    reason.save(update_fields=["active"])
    setting_change_record(
        area=CHURN_REASONS,
        subject=f"{reason.category.name_pt} › {reason.name_pt} / {reason.name_en}",
        changes=[(gettext_lazy("Offered in new churn requests"), not offered, offered)],
        effect=effect,
        actor=actor,
    )
    return reason


@transaction.atomic
def churn_reason_delete(*, reason: ChurnReason, actor: User | None) -> None:
    """Delete a reason no churn request ever named (a typo, a reason added by mistake); admins only. A reason in
    use is refused: retire it instead, so the requests and the metrics that name it keep it."""
    ensure_can_change_settings(actor)
    reason = ChurnReason.objects.select_for_update().select_related("category").get(pk=reason.pk)
    _ensure_not_the_involuntary_reason(reason)
    used = churn_reason_in_use(reason)
    if used:
        raise ValidationError(
            _(
                "“%(reason)s” is on %(count)s churn request(s): it cannot be deleted. Retire it instead: new "
                "requests will no longer offer it, and those that name it keep it."
            )
            % {"reason": reason.name_pt, "count": used}
        )
    subject = f"{reason.category.name_pt} › {reason.name_pt} / {reason.name_en}"
    reason.delete()
    setting_change_record(
        area=CHURN_REASONS,
        subject=gettext_lazy("Reason deleted"),
        changes=[(gettext_lazy("Reason"), subject, None)],
        actor=actor,
    )
