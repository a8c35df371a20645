"""Fields in a task step's title and description, filled in when the run creates the task: a playbook says
"Call back {{ contact.name }} ({{ customer.name }})" once and each task names its own customer and contact.

The fields come from the customer and from what started the run (``Run.facts``: a detractor's answer). A
field with nothing to put in gets its fallback (the contact falls back to the customer's name, an answer
without a comment says so); an unknown field is left as written, so a typo shows instead of vanishing.
"""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portfolio.models import Customer

FIELD = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")

# The fields a task step may use, for the editor's help text.
FIELDS = {
    "customer.name": gettext_lazy("the customer's name"),
    "contact.name": gettext_lazy("the contact who answered (the customer's name when none)"),
    "answer.survey": gettext_lazy("the survey of the answer (NPS, CSAT…)"),
    "answer.score": gettext_lazy("the answer's score"),
    "answer.comment": gettext_lazy("the answer's comment"),
}


def _values(customer: Customer, facts: dict) -> dict[str, str]:
    return {
        "customer.name": customer.name,
        "contact.name": facts.get("contact_name") or customer.name,
        "answer.survey": facts.get("survey") or "",
        "answer.score": "" if facts.get("score") is None else str(facts["score"]),
        "answer.comment": facts.get("comment") or _("No comment was left with the answer."),
    }


def fill(text: str, *, customer: Customer, facts: dict) -> str:
    """``text`` with its ``{{ field }}``s filled in (in the active language: the assignee's)."""
    if "{{" not in text:
        return text
    values = _values(customer, facts)
    return FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), text)
