"""What the survey Settings read: the defaults new campaigns start from, and the CHI criteria."""

from surveys.models import ChiCriterion, SurveyDefaults


def survey_defaults() -> SurveyDefaults:
    """The workspace's defaults for new campaigns: the saved row, or the built-in defaults until an admin saves."""
    return SurveyDefaults.objects.filter(pk=1).first() or SurveyDefaults(pk=1)


def chi_criteria_all() -> list[ChiCriterion]:
    """Every CHI criterion by position, whoever answers it (one query)."""
    return list(ChiCriterion.objects.order_by("position"))
