"""Formats of the national identifiers a nominal can carry.

PNC numbers are written YYYY/NNNNNNNL: the year, a serial number and a check letter.
Police officers write the same number several ways (`17/128C`, `2017/128C`,
`2017/0000128C`, in either case); the record keeps one form, a four-digit year
and seven digits, so an exact lookup finds the person whichever way it was typed.
Probation case reference numbers (CRN) are a letter and six digits; prison
numbers are a letter, four digits and two letters.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

PNC_PATTERN = re.compile(r"^(\d{2}|\d{4})/\d{1,7}[A-Z]$")
CRN_PATTERN = re.compile(r"^[A-Z]\d{6}$")
PRISON_NUMBER_PATTERN = re.compile(r"^[A-Z]\d{4}[A-Z]{2}$")


PNC_PARTS = re.compile(r"^(\d{2}|\d{4})/(\d{1,7})([A-Z])$")


def expand_pnc_year(year):
    """A two-digit PNC year is this century's up to the current year, otherwise the last century's."""
    if len(year) == 4:
        return year
    this_year = timezone.localdate().year
    century = this_year // 100 * 100
    full = century + int(year)
    return str(full if full <= this_year else full - 100)


def normalise_pnc(value):
    """The canonical form YYYY/NNNNNNNL of a PNC number written any common way; other text only tidied."""
    if not value:
        return ""  # most rows leave one identifier or another blank: no pattern to try
    tidy = value.strip().upper().replace(" ", "")
    parts = PNC_PARTS.match(tidy)
    if parts is None:
        return tidy
    year, serial, check = parts.groups()
    return f"{expand_pnc_year(year)}/{int(serial):07d}{check}"


def normalise_identifier(value):
    """An identifier as the record keeps it: trimmed, upper case, no spaces, and a PNC number in full."""
    return normalise_pnc(value)


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


class IdentifierField(models.CharField):
    """A national identifier kept in its one canonical form.

    Normalised when a form or `full_clean` reads it, when it is saved (by any path,
    `update()` and `bulk_create()` included) and when it is looked up exactly, so
    `filter(pnc_number="17/128c")` finds 2017/0000128C through the unique index.
    """

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_identifier(value) if isinstance(value, str) else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return normalise_identifier(value) if isinstance(value, str) else value
