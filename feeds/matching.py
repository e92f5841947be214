"""Matching a row to a person, as court-result matching services do, within what the importer may see.

- **Exact**: the identifiers on the row (PNC number, CRN, prison number) find one
  person, and none of them contradicts that person's record. The row is applied.
- **Possible**: no identifier finds anyone, but the surname and date of birth (with
  the first name when given), or an alias and date of birth, do. The row is held
  for a person to confirm or reject; it changes nothing until then.
- **None**: nothing matches. Fact rows are rejected; people rows add a person.

A person the importer's agency may not see does not exist for matching: an
identifier of theirs is treated exactly as an identifier nobody has, name matches
are looked for among visible people only, and the row's report says the same as
for a row that matches nobody. `hidden` tells the caller that such a person holds
one of the row's identifiers, so that it can avoid writing a duplicate (which the
database would refuse, disclosing the record) without saying so.
"""

from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower

from cases.identifiers import normalise_identifier
from cases.models import Alias, Offender

IDENTIFIERS = ("pnc_number", "crn", "prison_number")
IDENTIFIER_LABELS = {"pnc_number": "PNC number", "crn": "CRN", "prison_number": "prison number"}

EXACT, POSSIBLE, NONE, CONFLICT = "exact", "possible", "none", "conflict"


class Person(NamedTuple):
    """What matching and a fact feed need of a person: read as values, without building a model instance."""

    pk: int
    pnc_number: str
    crn: str
    prison_number: str
    first_names: str
    last_name: str
    lead_agency_id: int | None

    @property
    def full_name(self):
        return f"{self.first_names} {self.last_name}"


def people_by_id(ids):
    """{pk: Person} for the given ids."""
    return {row[0]: Person(*row) for row in Offender.objects.filter(pk__in=ids).values_list(*Person._fields)}


@dataclass
class Match:
    kind: str
    person: Offender | Person | None = None
    candidates: list = field(default_factory=list)
    basis: str = ""
    reason: str = ""
    # People the importer may not see who hold one of the row's identifiers (never shown to the importer).
    hidden: list = field(default_factory=list)


def row_identifiers(record):
    return {key: value for key in IDENTIFIERS if (value := normalise_identifier(record.get(key)))}


def _name_key(text):
    return " ".join((text or "").lower().split())


def _first(text):
    words = _name_key(text).split()
    return words[0] if words else ""


class Matcher:
    """Matches the rows of one chunk with a few queries; `load` before `match`.

    The people found are whole `Offender` records for a feed that changes them; with
    `whole_records=False` they are `Person` values, which is all a fact feed needs and a
    fraction of the cost at a hundred thousand rows.
    """

    def __init__(self, user, *, whole_records=True):
        self.user = user
        self.whole_records = whole_records
        self.by_identifier = {}
        self.visible = set()
        self.by_birth = {}

    def load(self, records, dates_of_birth=()):
        identified = [row_identifiers(record) for record in records]
        wanted = {key: set() for key in IDENTIFIERS}
        for identifiers in identified:
            for key, value in identifiers.items():
                wanted[key].add(value)
        query = Q()
        for key, values in wanted.items():
            if values:
                # "Not blank" as well, so PostgreSQL can use the identifier's unique index, which leaves blanks out.
                query |= Q(**{f"{key}__in": values}) & ~Q(**{key: ""})
        people, self.visible = [], set()
        if query:
            # Whether the importer may see each person, in the same query.
            found = Offender.objects.filter(query).order_by().annotate(may_see=Exists(
                Offender.objects.visible_to(self.user).filter(pk=OuterRef("pk"))))
            if self.whole_records:
                people = list(found)
                self.visible = {person.pk for person in people if person.may_see}
            else:
                for *values, may_see in found.values_list(*Person._fields, "may_see"):
                    people.append(Person(*values))
                    if may_see:
                        self.visible.add(values[0])
        self.by_identifier = {}
        for person in people:
            for key in IDENTIFIERS:
                if value := getattr(person, key):
                    self.by_identifier[(key, value)] = person
        self.by_birth = {}
        # Names are looked at only for rows whose identifiers find nobody the importer may see.
        resolved = {(key, value) for (key, value), person in self.by_identifier.items() if person.pk in self.visible}
        dates = {
            day for identifiers, day in zip(identified, dates_of_birth, strict=False)
            if day and not resolved.intersection(identifiers.items())
        }
        if dates:
            visible = Offender.objects.visible_to(self.user).filter(date_of_birth__in=dates)
            for person in visible.only("pk", "first_names", "last_name", "date_of_birth", "lead_agency_id"):
                self.by_birth.setdefault(person.date_of_birth, []).append(
                    (person, _first(person.first_names), _name_key(person.last_name), []))
            aliases = Alias.objects.filter(offender__in=visible).annotate(key=Lower("name")).values_list(
                "offender_id", "key")
            alias_names = {}
            for offender_id, name in aliases:
                alias_names.setdefault(offender_id, []).append(_name_key(name))
            for entries in self.by_birth.values():
                for person, _, _, names in entries:
                    names.extend(alias_names.get(person.pk, []))

    def match(self, record, *, date_of_birth=None):
        identifiers = row_identifiers(record)
        found = {}
        hidden = []
        for key, value in identifiers.items():
            person = self.by_identifier.get((key, value))
            if person is None:
                continue
            if person.pk in self.visible:
                found[key] = person
            elif person not in hidden:
                hidden.append(person)
        people = {person.pk: person for person in found.values()}
        if len(people) > 1:
            named = ", ".join(f"{IDENTIFIER_LABELS[key]} {identifiers[key]} is {person.full_name}'s"
                              for key, person in found.items())
            return Match(CONFLICT, reason=f"The identifiers belong to different people: {named}.", hidden=hidden)
        if people:
            person = next(iter(people.values()))
            for key, value in identifiers.items():
                recorded = getattr(person, key)
                if recorded and recorded != value:
                    return Match(CONFLICT, person=person, hidden=hidden, reason=(
                        f"The {IDENTIFIER_LABELS[key]} on the row ({value}) is not {person.full_name}'s, whose "
                        f"other identifiers it gives."))
            return Match(EXACT, person=person, hidden=hidden)
        return self._by_name(record, date_of_birth, hidden)

    def _by_name(self, record, date_of_birth, hidden):
        surname = _name_key(record.get("last_name"))
        if not (surname and date_of_birth):
            return Match(NONE, hidden=hidden)
        first = _first(record.get("first_names"))
        full = _name_key(f"{record.get('first_names', '')} {record.get('last_name', '')}")
        by_name, by_alias = [], []
        for person, own_first, own_last, aliases in self.by_birth.get(date_of_birth, []):
            if own_last == surname and (not first or own_first == first):
                by_name.append(person)
            elif full in aliases:
                by_alias.append(person)
        if by_name:
            return Match(POSSIBLE, candidates=by_name, basis="name_dob", hidden=hidden)
        if by_alias:
            return Match(POSSIBLE, candidates=by_alias, basis="alias_dob", hidden=hidden)
        return Match(NONE, hidden=hidden)
