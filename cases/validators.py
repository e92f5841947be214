"""Rules about a person's details that hold wherever the details come from: a form, the API or an import."""

from django.core.exceptions import ValidationError
from django.utils import timezone


def validate_date_of_birth(value):
    if value is not None and value >= timezone.localdate():
        raise ValidationError("Date of birth must be in the past.", code="date_of_birth_not_past")
