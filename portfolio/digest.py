"""The morning digest: at 8:00 in each person's time zone, an email with what their My day shows — overdue and
today's tasks, open churn requests, this month's renewals, the customers whose stage changed since yesterday and
what the apps above portfolio add to My day (core.panels' DayPanels that have email templates, e.g. customers
gone red) — built by My day's own selectors, so the email says what the page says.

Who gets it: the person's choice on their profile, else their role's default (``User.wants_digest``: on for CSMs,
ISMs, farmers and leaders; off for viewers and admins). Nothing is sent when there is nothing to say.

Once per person and day, however the job runs. The beat's ``digests_send_due`` (every 15 minutes) finds the
people whose local time is between 8:00 and noon and who have no digest for their local date, and queues one
``digest_send`` per person. ``digest_send`` inserts the ``MorningDigest`` row (unique on person and day) first,
and sends in the same transaction:

* run twice, the second insert finds the row and sends nothing;
* run concurrently, the second insert waits on the first's uncommitted row, then finds it and sends nothing;
* the email refused or the worker dead before the commit, the row goes with the transaction and the next beat
  (within the morning) sends it; a crash between the server's acceptance and the commit is the only window for
  a second copy, and the Message-ID (person and day) lets mail systems drop it.

After noon a missed digest is dropped: a "morning" email in the afternoon would be noise.
"""

import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.emails import digest_unsubscribe_url
from accounts.models import DIGEST_DEFAULT_ROLES, User
from core import panels
from core.mail.message_ids import message_id
from portfolio.models import Customer, MorningDigest
from portfolio.selectors.day import MyDay, my_day

logger = logging.getLogger(__name__)

DIGEST_AT = time(8, 0)
DIGEST_UNTIL = time(12, 0)  # a digest not sent by noon (the beat was down) is dropped for that day


@dataclass
class DigestPanel:
    key: str
    html: str
    text: str
    data: Any


@dataclass
class Digest:
    """What one person's digest of one day says."""

    user: User
    day: date
    my_day: MyDay
    changed: list[Customer]
    panels: list[DigestPanel] = field(default_factory=list)
    panel_items: int = 0

    @property
    def overdue(self) -> list:
        return [t for t in self.my_day["tasks"] if t.due_date < self.day]

    @property
    def due_today(self) -> list:
        return [t for t in self.my_day["tasks"] if t.due_date >= self.day]

    @property
    def renewal_count(self) -> int:
        renewals = self.my_day["renewals"]
        return renewals.totals["count"] if renewals else 0

    @property
    def items(self) -> int:
        """How many things the digest tells of; 0: nothing to say, nothing is sent."""
        return (
            self.my_day["task_count"]
            + len(self.my_day["churn_requests"])
            + self.renewal_count
            + len(self.changed)
            + self.panel_items
        )


def wants_digest_filter() -> Q:
    """The people the digest is on for: ``User.wants_digest`` as a filter."""
    return Q(morning_digest=True) | Q(morning_digest__isnull=True, role__in=DIGEST_DEFAULT_ROLES)


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def digests_due(*, now: datetime | None = None) -> list[tuple[int, date]]:
    """(person, local day) of everyone whose digest is due: on, active, between 8:00 and noon where they are,
    and no digest yet for that day. A query for the time zones in use, then one per zone in its morning."""
    now = now or timezone.now()
    people = User.objects.filter(wants_digest_filter(), is_active=True)
    due: list[tuple[int, date]] = []
    for zone_name in people.order_by().values_list("time_zone", flat=True).distinct():
        local = now.astimezone(_zone(zone_name))
        if not DIGEST_AT <= local.time() < DIGEST_UNTIL:
            continue
        day = local.date()
        ids = (
            people.filter(time_zone=zone_name)
            .exclude(pk__in=MorningDigest.objects.filter(day=day).values("user_id"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        due.extend((pk, day) for pk in ids)
    return due


def digest_build(user: User, day: date) -> Digest:
    """The digest of ``user`` for ``day`` (their local date), from My day's selectors."""
    zone = _zone(user.time_zone)
    until = datetime.combine(day, DIGEST_AT, tzinfo=zone)
    with timezone.override(zone):
        # My day's own list of the customers that changed stage, since yesterday's digest.
        content_day = my_day(user, today=day, changed_since=until - timedelta(days=1))
        content = Digest(user=user, day=day, my_day=content_day, changed=content_day["changed"])
        registered = {p.key: p for p in panels.registered_day()}
        for loaded in content.my_day["panels"]:
            panel = registered.get(loaded.key)
            if panel is None or panel.email_templates is None:
                continue
            html, text = panel.email_templates
            content.panels.append(DigestPanel(key=loaded.key, html=html, text=text, data=loaded.data))
            content.panel_items += panel.count(loaded.data)
    return content


def digest_message(content: Digest) -> EmailMultiAlternatives:
    """The email: HTML and text, in the person's language and time zone, with a one-click unsubscribe
    (RFC 8058: ``List-Unsubscribe`` and ``List-Unsubscribe-Post``)."""
    user = content.user
    unsubscribe = digest_unsubscribe_url(user)
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(_zone(user.time_zone)):
        context = {"digest": content, "day": content.day, "site_url": settings.SITE_URL, "unsubscribe": unsubscribe}
        subject = _("Your day at Leme: %(count)s to look at") % {"count": content.items}
        text = render_to_string("portfolio/email/digest.txt", context)
        html = render_to_string("portfolio/email/digest.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Message-ID": message_id(f"digest.{user.pk}.{content.day.isoformat()}"),
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def digest_send(*, user_id: int, day: date) -> bool:
    """Send ``user_id``'s digest of ``day`` unless it was sent (or found empty) already. True when an email went
    out. The claim and the send share a transaction: see the module's docstring."""
    user = User.objects.filter(wants_digest_filter(), pk=user_id, is_active=True).first()
    if user is None:
        return False
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = MorningDigest.objects.create(user=user, day=day)
        except IntegrityError:
            logger.info("morning digest already sent", extra={"user_id": user_id, "day": day.isoformat()})
            return False
        content = digest_build(user, day)
        claim.items = content.items
        claim.save(update_fields=["items"])
        if not content.items:
            logger.info("morning digest empty", extra={"user_id": user_id, "day": day.isoformat()})
            return False
        digest_message(content).send()
    logger.info("morning digest sent", extra={"user_id": user_id, "day": day.isoformat(), "items": content.items})
    return True
