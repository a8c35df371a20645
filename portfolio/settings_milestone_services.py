"""The onboarding milestone templates, changed on the Settings pages: the milestones each service model's new
customers get, named in Portuguese and English, added, renamed, reordered, retired and offered again (admins
only, recorded in the history with what they affect).

A customer entering onboarding gets one milestone per active template of its service model, in order
(``portfolio.services.customers``); customers already in onboarding keep the milestones they got. The templates
of first value and first success are what metrics, health and playbooks measure: they are renamed and moved,
never retired. A template that gave milestones is never deleted (``Milestone.template`` protects it).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import ensure_can_change_settings
from accounts.models import User
from accounts.settings_services import setting_change_record
from core.ordering import swap_with_neighbour
from portfolio.models import MilestoneKind, MilestoneTemplate, ServiceModel
from portfolio.taxonomy import MILESTONE_TEMPLATES

MILESTONES = "milestones"

MILESTONE_TEMPLATES_EFFECT = gettext_lazy(
    "Applies to customers who enter onboarding from now on; customers already in onboarding keep their milestones."
)
NAME_PT, NAME_EN = gettext_lazy("Name in Portuguese"), gettext_lazy("Name in English")
SERVICE_MODEL = gettext_lazy("Service model")


def _subject(template: MilestoneTemplate) -> str:
    """The template as the history names it: its names, readable in either language, and its service model."""
    return f"{template.name_pt} / {template.name_en} ({ServiceModel(template.service_model).label})"


def _clean_names(service_model: str, name_pt: str, name_en: str, *, exclude: int | None = None) -> tuple[str, str]:
    """Both names given, and neither already a milestone of the same service model (retired ones included)."""
    name_pt, name_en = " ".join((name_pt or "").split()), " ".join((name_en or "").split())
    errors: dict[str, str] = {}
    if service_model not in ServiceModel.values:
        errors["service_model"] = _("Pick a service model.")
    if not name_pt:
        errors["name_pt"] = _("Give the milestone's name in Portuguese.")
    if not name_en:
        errors["name_en"] = _("Give the milestone's name in English.")
    for field, name in (("name_pt", name_pt), ("name_en", name_en)):
        if len(name) > 200:
            errors[field] = _("Keep the name within 200 characters.")
    same_model = MilestoneTemplate.objects.filter(service_model=service_model).exclude(pk=exclude)
    if name_pt and same_model.filter(name_pt__iexact=name_pt).exists():
        errors["name_pt"] = _("This service model already has a milestone with this name.")
    if name_en and same_model.filter(name_en__iexact=name_en).exists():
        errors["name_en"] = _("This service model already has a milestone with this name.")
    if errors:
        raise ValidationError(errors)
    return name_pt, name_en


def milestone_templates_ensure(service_model: str) -> None:
    """Leme's own milestones for a service model that has no template at all (a database emptied by hand):
    onboarding always starts with first value and first success."""
    if MilestoneTemplate.objects.filter(service_model=service_model).exists():
        return
    for position, (kind, name_pt, name_en) in enumerate(MILESTONE_TEMPLATES, start=1):
        MilestoneTemplate.objects.get_or_create(
            service_model=service_model,
            kind=kind,
            defaults={"name_pt": name_pt, "name_en": name_en, "position": position},
        )


@transaction.atomic
def milestone_template_add(*, service_model: str, name_pt: str, name_en: str, actor: User | None) -> MilestoneTemplate:
    """A new milestone at the end of ``service_model``'s onboarding (admins only); customers who enter onboarding
    from now on get it, due by their first-success date."""
    ensure_can_change_settings(actor)
    name_pt, name_en = _clean_names(service_model, name_pt, name_en)
    milestone_templates_ensure(service_model)
    last = MilestoneTemplate.objects.filter(service_model=service_model).aggregate(last=Max("position"))["last"] or 0
    template = MilestoneTemplate.objects.create(
        service_model=service_model, name_pt=name_pt, name_en=name_en, kind=MilestoneKind.OTHER, position=last + 1
    )
    setting_change_record(
        area=MILESTONES,
        subject=gettext_lazy("New milestone"),
        changes=[
            (gettext_lazy("Milestone"), None, f"{name_pt} / {name_en}"),
            (SERVICE_MODEL, None, ServiceModel(service_model).label),
        ],
        effect=MILESTONE_TEMPLATES_EFFECT,
        actor=actor,
    )
    return template


@transaction.atomic
def milestone_template_edit(
    *, template: MilestoneTemplate, name_pt: str, name_en: str, actor: User | None
) -> MilestoneTemplate:
    """New names for a milestone (admins only): the milestones customers already got keep theirs."""
    ensure_can_change_settings(actor)
    template = MilestoneTemplate.objects.select_for_update().get(pk=template.pk)
    name_pt, name_en = _clean_names(template.service_model, name_pt, name_en, exclude=template.pk)
    before = (template.name_pt, template.name_en)
    template.name_pt, template.name_en = name_pt, name_en
    template.save(update_fields=["name_pt", "name_en", "updated_at"])
    setting_change_record(
        area=MILESTONES,
        subject=ServiceModel(template.service_model).label,
        changes=[(NAME_PT, before[0], name_pt), (NAME_EN, before[1], name_en)],
        effect=MILESTONE_TEMPLATES_EFFECT,
        actor=actor,
    )
    return template


@transaction.atomic
def milestone_template_move(*, template: MilestoneTemplate, up: bool, actor: User | None) -> MilestoneTemplate:
    """Swap a milestone with the one before (``up``) or after it in its service model (admins only); at an end,
    nothing changes."""
    ensure_can_change_settings(actor)
    rows = MilestoneTemplate.objects.select_for_update().filter(service_model=template.service_model)
    swapped = swap_with_neighbour(
        rows.order_by("position", "pk"), template.pk, up=up, update_fields=("position", "updated_at")
    )
    if swapped is None:
        return template
    moved, was, now = swapped
    setting_change_record(
        area=MILESTONES,
        subject=_subject(moved),
        changes=[(gettext_lazy("Position"), was, now)],
        effect=MILESTONE_TEMPLATES_EFFECT,
        actor=actor,
    )
    return moved


@transaction.atomic
def milestone_template_retire(*, template: MilestoneTemplate, actor: User | None) -> MilestoneTemplate:
    """Stop giving a milestone to new customers (admins only); customers who got it keep it. First value and
    first success are measured by metrics, health and playbooks: they are renamed, never retired."""
    ensure_can_change_settings(actor)
    template = MilestoneTemplate.objects.select_for_update().get(pk=template.pk)
    if template.kind != MilestoneKind.OTHER:
        raise ValidationError(
            _("“%(milestone)s” is the %(kind)s milestone that metrics and playbooks measure: rename it instead.")
            % {"milestone": template, "kind": MilestoneKind(template.kind).label.lower()}
        )
    if not template.active:
        return template
    template.active = False
    template.save(update_fields=["active", "updated_at"])
    setting_change_record(
        area=MILESTONES,
        subject=_subject(template),
        changes=[(gettext_lazy("Given to new customers"), True, False)],
        effect=MILESTONE_TEMPLATES_EFFECT,
        actor=actor,
    )
    return template


@transaction.atomic
def milestone_template_restore(*, template: MilestoneTemplate, actor: User | None) -> MilestoneTemplate:
    """Give a retired milestone to new customers again (admins only), where it stood in its service model."""
    ensure_can_change_settings(actor)
    template = MilestoneTemplate.objects.select_for_update().get(pk=template.pk)
    if template.active:
        return template
    template.active = True
    template.save(update_fields=["active", "updated_at"])
    setting_change_record(
        area=MILESTONES,
        subject=_subject(template),
        changes=[(gettext_lazy("Given to new customers"), False, True)],
        effect=MILESTONE_TEMPLATES_EFFECT,
        actor=actor,
    )
    return template
