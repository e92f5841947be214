"""Finding a person the way staff type: an identifier in any common form, or a name with a typo or two.

- An identifier (PNC number, CRN, prison number) is normalised to the form the record keeps
  and looked up exactly, through its unique index, whatever else the box holds.
- A name is matched word by word: each word must be the start of a first or last name or part
  of an alias; when nobody matches as typed, (on PostgreSQL) a name or alias close in spelling
  by pg_trgm trigram similarity will do. Results are ranked: names that start with the words
  first, then by closeness.
- A date of birth in the search (17/05/1990, 17-5-1990 or 1990-05-17) narrows it.

The SQLite demo has no pg_trgm: there the search matches name prefixes and alias parts only.
"""

import datetime
import re

from django.db import connection
from django.db.models import BooleanField, Case, FloatField, Func, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest, Upper

from .identifiers import CRN_PATTERN, PNC_PATTERN, PRISON_NUMBER_PATTERN, normalise_identifier
from .models import Alias, Offender

MAX_SEARCH_LENGTH = 100
MAX_WORDS = 5
# Trigrams of shorter words say little about spelling: they are matched as prefixes only.
FUZZY_MIN_LENGTH = 4
DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
DATE_WORD = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}$")


class SimilarTo(Func):
    """`a % b`: pg_trgm's similarity above its threshold (0.3), answered from a GIN trigram index."""

    arg_joiner = " %% "
    template = "%(expressions)s"
    output_field = BooleanField()


class Similarity(Func):
    function = "SIMILARITY"
    output_field = FloatField()


def fuzzy_search_available():
    return connection.vendor == "postgresql"


def parse_date(word):
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(word, pattern).date()
        except ValueError:
            continue
    return None


def split_query(value):
    """(name words, dates of birth) of a search; a word that looks like a date but is not one is dropped."""
    words, dates = [], []
    for word in value.split():
        if DATE_WORD.match(word):
            day = parse_date(word)
            if day is not None:
                dates.append(day)
            continue
        words.append(word)
    return words[:MAX_WORDS], dates


def identifier_filter(value):
    """The exact lookup for an identifier, or None when the search is not one."""
    identifier = normalise_identifier(value)
    if PNC_PATTERN.match(identifier):
        return Q(pnc_number=identifier)
    if CRN_PATTERN.match(identifier):
        return Q(crn=identifier)
    if PRISON_NUMBER_PATTERN.match(identifier):
        return Q(prison_number=identifier)
    return None


def search_people(queryset, value, *, rank=True):
    """People in `queryset` matching the search; with `rank`, best matches first (an explicit sort overrides it).

    Names are matched as typed first (name prefixes and alias parts). Only when that finds nobody
    the user may see are close spellings tried: a correctly spelt surname lists its people, not
    the hundreds of people whose surnames share most of its letters, and a typo still finds the
    person. That costs one EXISTS query for a name search, whatever the number of results.
    """
    value = (value or "").strip()[:MAX_SEARCH_LENGTH]
    if not value:
        return queryset
    exact = identifier_filter(value)
    if exact is not None:
        return queryset.filter(exact)
    words, dates = split_query(value)
    if dates:
        queryset = queryset.filter(date_of_birth__in=dates)
    if not words:
        return queryset
    fuzzy = fuzzy_search_available() and any(len(word) >= FUZZY_MIN_LENGTH for word in words)
    matched = matching_names(queryset, words, fuzzy=False)
    if fuzzy and not matched.exists():
        matched = matching_names(queryset, words, fuzzy=True)
    if rank:
        matched = matched.annotate(search_rank=match_rank(words, fuzzy_search_available())).order_by(
            "-search_rank", "last_name", "first_names", "pk"
        )
    return matched


def matching_names(queryset, words, *, fuzzy):
    """People each of whose words starts a name or is part of an alias; with `fuzzy`, or is spelt close to one."""
    for word in words:
        # One IN (... UNION ALL ...) per word rather than OR-ing the alias condition with the name
        # conditions: each branch uses its own index (name prefixes, name and alias trigrams), so a
        # search reads only the matching people instead of scanning everyone visible.
        branches = [
            Offender.objects.filter(Q(last_name__istartswith=word) | Q(first_names__istartswith=word)).values("pk"),
            Alias.objects.filter(name__icontains=word).values("offender_id"),
        ]
        if fuzzy and len(word) >= FUZZY_MIN_LENGTH:
            term = Value(word.upper())
            branches += [
                Offender.objects.filter(SimilarTo(Upper("last_name"), term)).values("pk"),
                Offender.objects.filter(SimilarTo(Upper("first_names"), term)).values("pk"),
                Alias.objects.filter(SimilarTo(Upper("name"), term)).values("offender_id"),
            ]
        first, *rest = [branch.order_by() for branch in branches]
        queryset = queryset.filter(pk__in=first.union(*rest, all=True))
    return queryset


def match_rank(words, fuzzy):
    """How well a person matches: per word, 1 for a name starting with it, plus the closest trigram similarity."""
    score = Value(0.0)
    for word in words:
        starts = Case(
            When(Q(last_name__istartswith=word) | Q(first_names__istartswith=word), then=Value(1.0)),
            default=Value(0.0), output_field=FloatField(),
        )
        if fuzzy:
            term = Value(word.upper())
            best_alias = Alias.objects.filter(offender=OuterRef("pk")).annotate(
                closeness=Similarity(Upper("name"), term)
            ).order_by("-closeness").values("closeness")[:1]
            closeness = Greatest(
                Similarity(Upper("last_name"), term), Similarity(Upper("first_names"), term),
                Coalesce(Subquery(best_alias, output_field=FloatField()), Value(0.0)),
            )
            score = score + starts + closeness
        else:
            score = score + starts
    return score
