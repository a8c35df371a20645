"""The company's employees who do not use Leme, imported from a spreadsheet so eNPS can ask them too, and
the list as its page shows it.

``employee_import(text=..., actor=..., commit=False)`` checks every row and reports, row by row, what would
happen (create, update, unchanged) or why it cannot; nothing is written. With ``commit=True`` it writes all
rows in one transaction, and nothing unless every row passes. Rows are matched by email (case-insensitive),
so importing the same file twice changes nothing; ``active=no`` takes someone off the list without losing the
deliveries already sent to them. The ``team`` column names a Leme team (any case): that team's leaders count
the person's eNPS answers; an empty cell leaves them in no team, whose answers only admins count. A leader
manages their teams' people only: their rows go to one of those teams (an empty cell: the leader's own). This follows
``portfolio.imports`` and reuses its report. Whom an eNPS campaign asks is ``surveys.audience``.

eNPS is anonymous: nothing here is ever shown next to an answer.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts.access import campaign_teams, can_manage_campaigns, default_campaign_team, employees_filter
from accounts.models import Team, User
from portfolio.imports import ImportFailed, ImportReport, RowResult, read_rows
from surveys.models import EmployeeRecipient

REQUIRED_COLUMNS = ["email"]
OPTIONAL_COLUMNS = ["name", "language", "department", "team", "active"]
LANGUAGES = {"pt-br": "pt-br", "pt": "pt-br", "en": "en", "en-us": "en", "en-gb": "en"}
YES = {"yes", "y", "sim", "s", "true", "1"}
NO = {"no", "n", "não", "nao", "false", "0"}

__all__ = [
    "ImportFailed",
    "employee_import",
    "recipient_counts",
    "recipients_listed",
    "recipients_managed_by",
]


# --- The import ------------------------------------------------------------------------------------------


def _language(value: str, errors: list[str]) -> str | None:
    """The row's language, None when the cell is empty (keep what is there; Portuguese for someone new)."""
    value = (value or "").strip().lower().replace("_", "-")
    if not value:
        return None
    if value not in LANGUAGES:
        errors.append(_('language: "%(value)s" is not pt-br or en.') % {"value": value})
        return None
    return LANGUAGES[value]


def _active(value: str, errors: list[str]) -> bool | None:
    value = (value or "").strip().lower()
    if not value:
        return None
    if value in YES:
        return True
    if value in NO:
        return False
    errors.append(_('active: "%(value)s" is not yes or no.') % {"value": value})
    return None


def _teams_named(rows: list[tuple[int, dict]]) -> dict[str, list[Team]]:
    """The teams the file names, by lower-case name (one query). Names are unique only as typed, so "Sales"
    and "sales" may both exist: each name maps to every team that matches it in any case."""
    names = {row.get("team", "").lower() for _line, row in rows} - {""}
    teams: dict[str, list[Team]] = {}
    for team in Team.objects.annotate(name_ci=Lower("name")).filter(name_ci__in=names).order_by("pk"):
        teams.setdefault(team.name_ci, []).append(team)
    return teams


def _team(value: str, teams: dict[str, list[Team]], errors: list[str]) -> Team | None:
    """The row's team, None for an empty cell (no team)."""
    if not value:
        return None
    found = teams.get(value.lower(), [])
    if len(found) > 1:
        found = [t for t in found if t.name == value]
        if not found:
            errors.append(_('team: "%(value)s" matches several teams; write the name exactly.') % {"value": value})
            return None
    if not found:
        errors.append(_('team: there is no team "%(value)s" in Leme.') % {"value": value})
        return None
    return found[0]


def _check(header: list[str], rows: list[tuple[int, dict]], results: dict[int, RowResult]) -> dict[int, dict]:
    """Each row's values as they would be stored, or its errors. Columns left out of the file keep what is
    stored; an empty language or active cell does too, while an empty team cell means no team."""
    teams = _teams_named(rows) if "team" in header else {}
    seen: dict[str, int] = {}
    values: dict[int, dict] = {}
    for line, row in rows:
        errors = results[line].errors
        email = row.get("email", "").lower()
        if not email:
            errors.append(_("email: required."))
        else:
            try:
                validate_email(email)
            except ValidationError:
                errors.append(_("email: %(value)s is not an email address.") % {"value": email})
            if email in seen:
                errors.append(_("email %(email)s repeats line %(line)s.") % {"email": email, "line": seen[email]})
            seen.setdefault(email, line)
        data: dict = {}
        for column, limit in (("name", 150), ("department", 100)):
            if column in header:
                data[column] = row.get(column, "")
                if len(data[column]) > limit:
                    errors.append(_("%(col)s: at most %(max)s characters.") % {"col": column, "max": limit})
        language = _language(row.get("language", ""), errors)
        if language is not None:
            data["language"] = language
        if "team" in header:
            team = _team(row.get("team", ""), teams, errors)
            data["team_id"] = team.pk if team is not None else None
        active = _active(row.get("active", ""), errors)
        if active is not None:
            data["active"] = active
        values[line] = {"email": email, **data}
    return values


def _check_team(actor: User, values: dict[int, dict], existing: dict, results: dict[int, RowResult]) -> None:
    """A leader manages their teams' people only: a row may name only a team they oversee (an empty cell, or
    a new person without the column, puts the person in the leader's own team, never in no team, which is the
    admins'), and may not change someone of the list who is in another team or in none."""
    if actor.is_admin:
        return
    allowed = set(campaign_teams(actor).values_list("pk", flat=True))
    default = default_campaign_team(actor)
    for line, data in values.items():
        errors = results[line].errors
        if errors:
            continue
        recipient = existing.get(data["email"])
        if recipient is not None and recipient.team_id not in allowed:
            errors.append(
                _("email %(email)s: this person is on the list of a team you do not manage; ask an admin.")
                % {"email": data["email"]}
            )
            continue
        if data.get("team_id", "absent") is None or ("team_id" not in data and recipient is None):
            # An empty team cell, or someone new in a file without the column: the leader's own team.
            if default is None or default.pk not in allowed:
                errors.append(_("team: name one of your teams."))
                continue
            data["team_id"] = default.pk
        elif "team_id" in data and data["team_id"] not in allowed:
            errors.append(_("team: you manage only your own team's people."))


def employee_import(*, text: str, actor: User, commit: bool = False) -> ImportReport:
    """Check (``commit=False``) or apply (``commit=True``, all rows or none) a CSV of employees with the
    columns email*, name, language (pt-br or en), department, team (a Leme team's name) and active (yes/no). Raises
    :class:`ImportFailed` with the report when a commit finds any error; PermissionDenied for anyone who may
    not manage campaigns (admins and leaders may). A leader imports, changes and takes off the list only the
    people of the teams they oversee (``accounts.access.employees_filter``)."""
    if not can_manage_campaigns(actor):
        raise PermissionDenied(_("Only admins and leaders manage the employees eNPS asks."))
    report = ImportReport(kind="employees")
    header, rows = read_rows(text, report, required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS)
    if report.errors:
        if commit:
            raise ImportFailed(report)
        return report
    results = {line: report.row_result(line, row.get("email", "").lower()) for line, row in rows}
    report.rows = list(results.values())
    values = _check(header, rows, results)
    emails = [v["email"] for v in values.values() if v["email"]]
    existing = {
        r.email.lower(): r
        for r in EmployeeRecipient.objects.annotate(email_ci=Lower("email")).filter(email_ci__in=emails)
    }
    _check_team(actor, values, existing, results)
    to_create: list[EmployeeRecipient] = []
    to_update: dict[int, EmployeeRecipient] = {}
    changed_fields: set[str] = set()
    for line, data in values.items():
        result = results[line]
        if result.errors:
            result.action = "error"
            continue
        recipient = existing.get(data["email"])
        if recipient is None:
            result.action = "create"
            to_create.append(EmployeeRecipient(**data))
            continue
        changes = {k: v for k, v in data.items() if k != "email" and getattr(recipient, k) != v}
        result.action = "update" if changes else "unchanged"
        for name, value in changes.items():
            setattr(recipient, name, value)
        if changes:
            to_update[recipient.pk] = recipient
            changed_fields.update(changes)
    if not commit:
        return report
    if not report.ok:
        raise ImportFailed(report)
    try:
        with transaction.atomic():
            for recipient in to_create:
                # The team was looked up above; checking it again would cost a query per row.
                recipient.full_clean(exclude=["team"], validate_constraints=False)
            EmployeeRecipient.objects.bulk_create(to_create, batch_size=1000)
            if to_update:
                EmployeeRecipient.objects.bulk_update(list(to_update.values()), sorted(changed_fields), batch_size=1000)
    except IntegrityError as exc:
        # Someone imported the same people at the same moment: check the file again.
        report.errors.append(_("Another import added some of these people meanwhile: upload the file again."))
        raise ImportFailed(report) from exc
    except ValidationError as exc:
        report.errors.extend(exc.messages)
        raise ImportFailed(report) from exc
    return report


def recipients_managed_by(user: User) -> QuerySet[EmployeeRecipient]:
    """The people of the imported list ``user`` may see and change: a leader's teams', every one for admins."""
    return EmployeeRecipient.objects.filter(employees_filter(user))


def recipient_counts(user: User) -> dict[str, int]:
    """How many people of the imported list the user manages, active and not (one query)."""
    counts = recipients_managed_by(user).aggregate(
        active_count=Count("pk", filter=Q(active=True)), inactive_count=Count("pk", filter=Q(active=False))
    )
    return {"active": counts["active_count"], "inactive": counts["inactive_count"]}


def recipients_listed(user: User) -> QuerySet[EmployeeRecipient]:
    """The imported list as its page shows it to ``user`` (their teams' people; admins: everyone): by email,
    each person with their team (one query a page)."""
    return recipients_managed_by(user).select_related("team").order_by("email", "pk")
