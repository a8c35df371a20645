"""Surveys: NPS, CSAT, CES, eNPS and CHI campaigns, their emails, the public answer page, and the results.

Modules import each other at module level in one order, lower before higher, never back (a test,
``tests/surveys/test_layers.py``, keeps it so); the only imports inside functions are ``apps.ready``'s:

1. ``models``; ``tokens`` (link tokens); ``scoring`` (score math, bands, ``summarise``);
2. reads, which take the acting user and never import a module that writes: ``selectors`` (the door: which
   campaigns, answers and deliveries a user may read; ``Scope``), ``audience`` (whom a campaign reaches),
   ``selectors_chi`` (the combined CHI score), ``charts`` (chart geometry), ``results`` (live or tallied
   counts behind a results page), ``campaign_counts``, ``comments``, ``exports`` (CSV);
3. writes below the jobs: ``counted_for`` (whom rows written in bulk count for), ``tallies`` (the counts
   rolled up for large scopes), ``answers`` (the public page's
   rules), ``services_chi``, ``employees`` (the eNPS list import), ``planning`` (who gets a survey),
   ``messages`` (the email), ``dispatch`` (the send, exactly once but for one instant), ``reminders``,
   ``scheduling`` (what the beat starts), ``bounces`` (late DSNs);
4. ``tasks`` (Celery jobs: ids in, one of the above called);
5. writes that queue jobs: ``services`` (campaigns: create, activate, close), ``triggers`` (surveys sent when
   something happens to a customer);
6. ``subscribers`` (portfolio's events), forms, views, ``api``, ``demo``.

Who may do what is ``accounts.access``; the paced SMTP loop the sender runs on is ``core.mail``.
"""
