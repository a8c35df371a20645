"""What the survey Settings read: the defaults new campaigns start from."""

from surveys.models import SurveyDefaults


def survey_defaults() -> SurveyDefaults:
    """The workspace's defaults for new campaigns: the saved row, or the built-in defaults until an admin saves."""
    return SurveyDefaults.objects.filter(pk=1).first() or SurveyDefaults(pk=1)
