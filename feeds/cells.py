"""Turning a cell's text into a value: dates, times, yes or no, and the model's own choices.

Each parser raises ValueError with a message that says what to write instead.
"""

import datetime
import re

from django.utils import timezone

DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"]
TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
TRUE_WORDS, FALSE_WORDS = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


def parse_date(text):
    text = text.strip()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("Enter a date like 2026-03-27 or 27/03/2026")


def parse_datetime(text, *, date_only_time=None):
    """A date and a time in the partnership's time zone; a date alone only where `date_only_time` says when."""
    text = text.strip().replace("T", " ")
    if text.endswith("Z") or "+" in text[10:]:
        try:
            return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
    day_text, _, time_text = text.partition(" ")
    try:
        day = parse_date(day_text)
    except ValueError:
        raise ValueError("Enter a date and time like 2026-03-27 14:30") from None
    if not time_text.strip():
        if date_only_time is None:
            raise ValueError("Enter the time as well as the date, like 2026-03-27 14:30")
        moment = date_only_time
    else:
        found = TIME_PATTERN.match(time_text.strip())
        if not found or int(found[1]) > 23 or int(found[2]) > 59 or int(found[3] or 0) > 59:
            raise ValueError("Enter a time like 14:30")
        moment = datetime.time(int(found[1]), int(found[2]), int(found[3] or 0))
    return timezone.make_aware(datetime.datetime.combine(day, moment))


def parse_bool(text):
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("Enter yes or no")


class Choices:
    """A model field's choices, read by value or by label whatever the case, with a few words partners use."""

    def __init__(self, choices, synonyms=None):
        self.values = [str(value) for value, _ in choices]
        self.lookup = {}
        for value, label in choices:
            self.lookup[_word(label)] = value
            self.lookup[_word(value)] = value
        for word, value in (synonyms or {}).items():
            self.lookup[_word(word)] = value

    def __call__(self, text):
        try:
            return self.lookup[_word(text)]
        except KeyError:
            raise ValueError("Use one of " + ", ".join(self.values)) from None

    def many(self, text):
        """Several choices in one cell, separated by semicolons or commas."""
        values = []
        for part in re.split(r"[;,]", text):
            if part.strip():
                value = self(part)
                if value not in values:
                    values.append(value)
        return values


def _word(text):
    return " ".join(str(text).strip().lower().replace("_", " ").replace("-", " ").split())
