"""Customer health: product usage in, an explainable score out, recomputed nightly.

Usage events arrive through the API or a CSV import and roll up into one row per customer and day; the
nightly score reads those rows (never the raw events), keeps one history row per customer and day, and
announces band changes (``health.events``) for the apps above (playbooks). Portfolio and surveys never
import health.
"""
