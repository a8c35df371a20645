"""Bulk email that must go out once: the parts any sender of many emails reuses (survey emails and playbooks'
tech-touch emails). Nothing here knows what the emails are about.

* ``core.mail.smtp``: one run of a send — an SMTP connection per batch, the pace, a time budget,
  reconnects — and how the server's answer to one email is read (sent, bounced, failed, deferred, dropped);
* ``core.mail.lanes``: several SMTP connections at once, driven in turn by the sender, sharing the run's pace;
* ``core.mail.pacing``: at most N emails a second for every worker together, kept in Redis;
* ``core.mail.marks``: "sent" marks committed behind the sends by a companion thread on its own connection;
* ``core.mail.frames``: a message built once as bytes with markers, filled in per email;
* ``core.mail.message_ids``: deterministic Message-IDs, so a resend is the same email;
* ``core.mail.bounces``: late bounces (DSNs) of other apps' emails, handed over by the surveys' DSN reader.

The caller keeps its own rows, its own claims and its own "exactly once" story; see ``surveys.dispatch`` and
``playbooks.mailing``.
"""
