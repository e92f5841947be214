"""Formats of the national identifiers a nominal can carry.

PNC numbers are written YYYY/NNNNNNNL (a two- or four-digit year, up to seven
digits and a check letter); probation case reference numbers (CRN) are a letter
and six digits; prison numbers are a letter, four digits and two letters.
"""

import re

from django.core.exceptions import ValidationError

PNC_PATTERN = re.compile(r"^(\d{2}|\d{4})/\d{1,7}[A-Z]$")
CRN_PATTERN = re.compile(r"^[A-Z]\d{6}$")
PRISON_NUMBER_PATTERN = re.compile(r"^[A-Z]\d{4}[A-Z]{2}$")


def normalise_identifier(value):
    return (value or "").strip().upper().replace(" ", "")


def validate_pnc_number(value):
    if value and not PNC_PATTERN.match(value):
        raise ValidationError(
            "Enter a PNC number in the format 2015/0123456X", code="invalid_pnc"
        )


def validate_crn(value):
    if value and not CRN_PATTERN.match(value):
        raise ValidationError("Enter a CRN in the format X123456", code="invalid_crn")


def validate_prison_number(value):
    if value and not PRISON_NUMBER_PATTERN.match(value):
        raise ValidationError(
            "Enter a prison number in the format A1234BC", code="invalid_prison_number"
        )
