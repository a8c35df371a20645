"""Every write people make on playbooks: creating and editing the draft version, publishing it, pausing and
resuming, and starting a playbook by hand on one customer or a selection. Who may do what is checked here
(``accounts.access``), so the pages and anything else that calls these agree."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from accounts.access import can_author_playbooks, can_edit_playbooks, ensure_can_write
from accounts.models import Team, User
from core import clock
from playbooks import emails, engine, mailing
from playbooks.audience import audience_q, not_recently_run_q, team_q
from playbooks.models import Playbook, PlaybookStatus, PlaybookVersion, Run, RunStatus
from playbooks.steps import StepKind
from portfolio.models import Customer

VERSION_FIELDS = (
    "trigger_kind",
    "trigger_params",
    "service_models",
    "segments",
    "stages",
    "plan_tiers",
    "mrr_min_cents",
    "mrr_max_cents",
    "exit_goal",
)


def _ensure_can_edit(actor: User | None, playbook: Playbook) -> None:
    if actor is None:  # Leme itself (the defaults' installer)
        return
    ensure_can_write(actor)
    if not can_edit_playbooks(actor, playbook.team_id):
        raise PermissionDenied(_("Only admins and the team's leader edit this playbook."))


@transaction.atomic
def playbook_create(
    *,
    name: str,
    actor: User | None,
    team: Team | None = None,
    description: str = "",
    cooldown_days: int = 30,
    trigger_kind: str = "manual",
    trigger_params: dict | None = None,
    steps: list[dict] | None = None,
    key: str | None = None,
    **version_fields,
) -> Playbook:
    """A new playbook in draft, with its first (draft) version."""
    if actor is not None:
        ensure_can_write(actor)
        if not can_author_playbooks(actor) or not can_edit_playbooks(actor, team.pk if team else None):
            raise PermissionDenied(_("Only admins and leaders create playbooks, leaders for their own team."))
    playbook = Playbook.objects.create(
        name=name, description=description, team=team, cooldown_days=cooldown_days, created_by=actor, key=key
    )
    PlaybookVersion.objects.create(
        playbook=playbook,
        number=1,
        trigger_kind=trigger_kind,
        trigger_params=trigger_params or {},
        steps=steps or [],
        **version_fields,
    )
    return playbook


def draft_of(playbook: Playbook) -> PlaybookVersion:
    """The playbook's draft version, made as a copy of the live one when there is none (editing a published
    playbook starts a new version; runs keep theirs)."""
    draft = playbook.versions.filter(published_at__isnull=True).first()
    if draft is not None:
        return draft
    source = playbook.live_version or playbook.versions.order_by("-number").first()
    number = (playbook.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    fields = {f: getattr(source, f) for f in VERSION_FIELDS} if source else {"trigger_kind": "manual"}
    return PlaybookVersion.objects.create(
        playbook=playbook, number=number, steps=list(source.steps) if source else [], **fields
    )


@transaction.atomic
def playbook_update(
    *, playbook: Playbook, actor: User, name: str, description: str, cooldown_days: int, **version_fields
) -> PlaybookVersion:
    """Change the playbook's name and cool-down, and the draft version's trigger, audience and exit goal."""
    _ensure_can_edit(actor, playbook)
    Playbook.objects.filter(pk=playbook.pk).update(name=name, description=description, cooldown_days=cooldown_days)
    playbook.name, playbook.description, playbook.cooldown_days = name, description, cooldown_days
    draft = draft_of(playbook)
    for field, value in version_fields.items():
        if field not in VERSION_FIELDS:
            raise ValueError(field)
        setattr(draft, field, value)
    draft.save()
    return draft


def _validate_step(step: dict) -> dict:
    if step.get("kind") not in StepKind.values:
        raise ValidationError(_("Choose what kind of step this is."))
    if step["kind"] == StepKind.EMAIL:
        errors = [e for key in emails.TEXT_KEYS for e in emails.template_errors(step.get(key) or "")]
        if errors:
            raise ValidationError(errors)
    return step


@transaction.atomic
def step_add(*, playbook: Playbook, actor: User, step: dict) -> PlaybookVersion:
    _ensure_can_edit(actor, playbook)
    draft = draft_of(playbook)
    draft.steps = [*draft.steps, _validate_step(step)]
    draft.save(update_fields=["steps"])
    return draft


@transaction.atomic
def step_remove(*, playbook: Playbook, actor: User, index: int) -> PlaybookVersion:
    _ensure_can_edit(actor, playbook)
    draft = draft_of(playbook)
    if 0 <= index < len(draft.steps):
        draft.steps = [s for i, s in enumerate(draft.steps) if i != index]
        draft.save(update_fields=["steps"])
    return draft


@transaction.atomic
def step_move(*, playbook: Playbook, actor: User, index: int, up: bool) -> PlaybookVersion:
    """Move a step one place up or down in the draft."""
    _ensure_can_edit(actor, playbook)
    draft = draft_of(playbook)
    other = index - 1 if up else index + 1
    if 0 <= index < len(draft.steps) and 0 <= other < len(draft.steps):
        steps = list(draft.steps)
        steps[index], steps[other] = steps[other], steps[index]
        draft.steps = steps
        draft.save(update_fields=["steps"])
    return draft


@transaction.atomic
def version_publish(*, playbook: Playbook, actor: User | None) -> PlaybookVersion:
    """Publish the draft: new runs start with it (runs under way keep theirs). A draft playbook becomes
    active; a paused one stays paused."""
    _ensure_can_edit(actor, playbook)
    draft = playbook.versions.select_for_update().filter(published_at__isnull=True).first()
    if draft is None:
        raise ValidationError(_("There are no changes to publish."))
    if not draft.steps:
        raise ValidationError(_("Add at least one step before publishing."))
    draft.published_at = clock.now()
    draft.published_by = actor
    draft.save(update_fields=["published_at", "published_by"])
    playbook.live_version = draft
    if playbook.status == PlaybookStatus.DRAFT:
        playbook.status = PlaybookStatus.ACTIVE
    playbook.save(update_fields=["live_version", "status"])
    return draft


@transaction.atomic
def playbook_pause(*, playbook: Playbook, actor: User | None) -> int:
    """Pause a playbook and its runs: nothing enrols and no step runs until it is resumed. Returns how many
    runs paused."""
    _ensure_can_edit(actor, playbook)
    playbook = Playbook.objects.select_for_update().get(pk=playbook.pk)
    if playbook.status != PlaybookStatus.ACTIVE:
        raise ValidationError(_("Only an active playbook can be paused."))
    now = clock.now()
    playbook.status, playbook.paused_at = PlaybookStatus.PAUSED, now
    playbook.save(update_fields=["status", "paused_at"])
    return Run.objects.filter(playbook=playbook, status=RunStatus.ACTIVE).update(status=RunStatus.PAUSED, paused_at=now)


@transaction.atomic
def playbook_resume(*, playbook: Playbook, actor: User | None) -> int:
    """Resume a paused playbook (or activate a published one never active, such as an installed default):
    its runs carry on where they stood, each due date moved on by the time the playbook spent paused (a wait
    of 7 days paused for 3 still waits its remaining days)."""
    _ensure_can_edit(actor, playbook)
    playbook = Playbook.objects.select_for_update().get(pk=playbook.pk)
    if playbook.status == PlaybookStatus.ACTIVE or playbook.live_version_id is None:
        raise ValidationError(_("Only a paused playbook, or one with a published version, can be activated."))
    now = clock.now()
    paused_for = now - (playbook.paused_at or now)
    playbook.status, playbook.paused_at = PlaybookStatus.ACTIVE, None
    playbook.save(update_fields=["status", "paused_at"])
    return Run.objects.filter(playbook=playbook, status=RunStatus.PAUSED).update(
        status=RunStatus.ACTIVE, paused_at=None, next_due_at=F("next_due_at") + paused_for
    )


def _why_not(playbook: Playbook, customer: Customer) -> str:
    version = playbook.live_version
    if playbook.status != PlaybookStatus.ACTIVE or version is None:
        return _("This playbook is not active.")
    now = clock.now()
    in_scope = Customer.objects.filter(pk=customer.pk)
    if not in_scope.filter(team_q(playbook)).exists():
        return _("This customer is not one of the playbook's team.")
    if not in_scope.filter(audience_q(version)).exists():
        return _("This customer is outside the playbook's audience.")
    if not in_scope.filter(not_recently_run_q(playbook, now)).exists():
        return _("This customer is already in this playbook, or left it less than %(n)s days ago.") % {
            "n": playbook.cooldown_days
        }
    return _("This customer could not be enrolled.")


def run_start(*, playbook: Playbook, customer: Customer, actor: User) -> Run:
    """Start a playbook by hand on a customer the actor may change (the caller looked it up through the
    door). Refused with the reason when the customer cannot enter it."""
    ensure_can_write(actor)
    run = engine.enrol(playbook=playbook, customer_id=customer.pk, started_by=actor)
    if run is None:
        raise ValidationError(_why_not(playbook, customer))
    engine.run_advance(run.pk)
    return run


def runs_start_bulk(*, playbook: Playbook, customers, actor: User) -> tuple[int, int]:
    """Start a playbook on a selection of customers (already scoped to what the actor may change). Returns
    (started, skipped): customers outside the audience, already in it or cooling down are skipped."""
    ensure_can_write(actor)
    started = skipped = 0
    for customer in customers:
        run = engine.enrol(playbook=playbook, customer_id=customer.pk, started_by=actor)
        if run is None:
            skipped += 1
            continue
        engine.run_advance(run.pk)
        started += 1
    return started, skipped


def email_step_test_send(*, playbook: Playbook, index: int, actor: User, language: str) -> str:
    """Send the email of step ``index`` (of the draft, else the live version: what the editor shows) to the
    acting person, who must be one who edits the playbook. Returns the address it went to."""
    _ensure_can_edit(actor, playbook)
    version = playbook.versions.filter(published_at__isnull=True).first() or playbook.live_version
    steps = version.steps if version is not None else []
    if not 0 <= index < len(steps) or steps[index].get("kind") != StepKind.EMAIL:
        raise ValidationError(_("That step is not an email."))
    if not actor.email:
        raise ValidationError(_("Your account has no email address to send the test to."))
    mailing.email_test_send(step=steps[index], actor=actor, language=language)
    return actor.email
