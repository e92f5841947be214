"""What an evaluation can compare: the fixed menu of matching variables and the kinds of treatment group."""

from django.db import models


class Treatment(models.TextChoices):
    COHORT_STARTED = "cohort_started", "People who started a cohort or scheme"
    COHORT_COMPLETED = "cohort_completed", "People who completed a cohort or scheme"
    REFERRED = "referred", "People referred to a service"
    SEEN = "seen", "People seen by a service"


# Treatments that name a service rather than a cohort.
SERVICE_TREATMENTS = frozenset({Treatment.REFERRED, Treatment.SEEN})


NUMBER = "number"
CATEGORY = "category"

# (key, label, kind, help). The Justice Data Lab's matching variables, as this record holds them.
VARIABLES = (
    ("age", "Age", NUMBER, "Age in years on the date of the event."),
    ("gender", "Gender", CATEGORY, ""),
    ("ethnicity", "Ethnicity", CATEGORY, ""),
    ("previous_offences", "Previous proven offences", NUMBER,
     "Offences before the event that led to a conviction or a caution."),
    ("previous_convictions", "Previous convictions", NUMBER, "Offences before the event that led to a conviction."),
    ("years_since_last", "Years since the last proven offence", NUMBER,
     "Up to 10; people with no previous proven offence count as 10."),
    ("offence_group", "Group of the most recent offence", CATEGORY, "The latest proven offence before the event."),
    ("risk_score", "OGRS score", NUMBER,
     "The latest two-year OGRS score recorded before the event; people with none are matched on that too."),
    ("area", "Area", CATEGORY, ""),
    ("quarter", "Quarter of the event", CATEGORY, ""),
)
VARIABLE_LABELS = {key: label for key, label, _, _ in VARIABLES}
VARIABLE_KINDS = {key: kind for key, _, kind, _ in VARIABLES}
DEFAULT_VARIABLES = ("age", "gender", "previous_offences", "years_since_last", "offence_group", "quarter")
YEARS_SINCE_CAP = 10.0
