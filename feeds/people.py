"""The people feed: one person a row, matched by PNC number, CRN and prison number.

A matched person's details are updated from the non-blank cells (by their lead
agency, or an agency given change rights); a row that matches nobody adds a
person led by the importer's agency. A row with a cohort enrols the person
(unless already on it); a row with a RAG status records a change (source
"Imported") when it differs.

A row whose name and date of birth match someone the importer can see, though no
identifier does, is held as a possible match for the importing agency to confirm
(the row updates that person) or reject (the row adds a new person). A row
carrying an identifier of someone the importer may not see is held for that
person's lead agency to review, and reported to the importer in the same words
as any possible match: the importer learns nothing about the person, and no
duplicate is written.
"""

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from cases.identifiers import normalise_identifier, validate_crn, validate_pnc_number, validate_prison_number
from cases.models import AccessLogEntry, Area, Cohort, CohortMembership, Offender, RagChange, RagStatus
from cases.services import can_edit_personal_details

from .cells import Choices, parse_bool, parse_date
from .importing import RowResult
from .kinds import Column, Feed, hold_possible_match
from .matching import CONFLICT, EXACT, POSSIBLE, Matcher
from .models import FeedKind, PossibleMatch

DETAIL_FIELDS = [
    "prison_number", "first_names", "last_name", "date_of_birth", "gender", "ethnicity", "address", "postcode",
    "area", "veteran", "care_leaver", "disability", "womens_cohort", "review_date",
]
REQUIRED_FOR_NEW = ["first_names", "last_name", "date_of_birth", "gender", "area"]
CHOICES = {
    "gender": Choices(Offender.Gender.choices),
    "ethnicity": Choices(Offender.Ethnicity.choices),
    "rag_status": Choices(RagStatus.choices),
    "cohort": Choices(Cohort.choices),
    "iom_category": Choices(CohortMembership.IomCategory.choices),
    "mappa_category": Choices(CohortMembership.MappaCategory.choices),
    "mappa_level": Choices(CohortMembership.MappaLevel.choices),
}
MAX_LENGTHS = {
    f.name: f.max_length for f in Offender._meta.concrete_fields if getattr(f, "max_length", None) and not f.choices
}
COHORT_LABELS = dict(Cohort.choices)
IOM_CATEGORY_LABELS = dict(CohortMembership.IomCategory.choices)
HEADER_ALIASES = {"pnc": "pnc_number", "pnc_no": "pnc_number", "surname": "last_name", "forenames": "first_names",
                  "first_name": "first_names", "dob": "date_of_birth", "rag": "rag_status",
                  "prison_no": "prison_number"}


def _membership_description(membership):
    """As CohortMembership.description says it, without building the model (slow for thousands of rows)."""
    cohort = membership["cohort"]
    if cohort == Cohort.IOM:
        return f"IOM ({IOM_CATEGORY_LABELS[membership['iom_category']].lower()})"
    if cohort == Cohort.MAPPA:
        return f"MAPPA category {membership['mappa_category']}, level {membership['mappa_level']}"
    return COHORT_LABELS[cohort]


class PeopleFeed(Feed):
    kind = FeedKind.PEOPLE
    title = "People"
    description = "The people the partnership manages, and the cohorts they join. Matched by PNC number, then CRN."
    identifying_columns = ("pnc_number", "crn")
    header_aliases = HEADER_ALIASES
    columns = [
        Column("pnc_number", "PNC number, for example 2015/0123456X. Matched first.", example="2015/0123456X"),
        Column("crn", "Probation case reference number, for example X123456.", example="X123456"),
        Column("prison_number", "For example A1234BC."),
        Column("first_names", "Required for a new person.", example="Jordan"),
        Column("last_name", "Required for a new person.", example="Example"),
        Column("date_of_birth", "Required for a new person. 1990-05-17 or 17/05/1990.", example="1990-05-17"),
        Column("gender", "Required for a new person: male, female, other or not_known.", example="male"),
        Column("ethnicity", "asian, black, mixed, white, other or not_stated.", example="white"),
        Column("address", ""),
        Column("postcode", ""),
        Column("area", "Required for a new person: the area's code or name.", example="northtown"),
        Column("veteran", "yes or no.", example="no"),
        Column("care_leaver", "yes or no."),
        Column("disability", "yes or no: disability or learning difficulty."),
        Column("womens_cohort", "yes or no."),
        Column("review_date", "When to review whether to keep the record."),
        Column("rag_status", "red, amber or green.", example="amber"),
        Column("cohort", "Enrol in this cohort: " + ", ".join(Cohort.values) + ".", example="iom"),
        Column("iom_category", "For IOM: fixed, flex or free.", example="fixed"),
        Column("mappa_category", "For MAPPA: 1, 2 or 3."),
        Column("mappa_level", "For MAPPA: 1, 2 or 3."),
        Column("cohort_started_on", "When the person joined the cohort; today if blank.", example="2026-01-05"),
    ]

    def start(self, context):
        context.matcher = Matcher(context.user)
        context.areas = {}
        for area in Area.objects.all():
            context.areas[area.code.lower()] = area
            context.areas[area.name.lower()] = area
        context.may_edit = {}

    def may_edit(self, context, person):
        if person.pk not in context.may_edit:
            user = context.user
            context.may_edit[person.pk] = user.is_superuser or (
                user.does_casework and person.lead_agency_id == user.agency_id
            ) or can_edit_personal_details(user, person)
        return context.may_edit[person.pk]

    def convert(self, context, record, result):
        """The row's non-blank cells as model values; problems go to `result.reasons`."""
        values = {}
        for name in DETAIL_FIELDS + ["rag_status", "cohort", "iom_category", "mappa_category", "mappa_level",
                                     "cohort_started_on"]:
            text = (record.get(name) or "").strip()
            if not text:
                continue
            try:
                if name in ("date_of_birth", "review_date", "cohort_started_on"):
                    values[name] = parse_date(text)
                    if name == "date_of_birth" and values[name] >= timezone.localdate():
                        raise ValueError("Date of birth must be in the past")
                    if name == "cohort_started_on" and values[name] > timezone.localdate():
                        raise ValueError("The date cannot be in the future")
                elif name in ("veteran", "care_leaver", "disability", "womens_cohort"):
                    values[name] = parse_bool(text)
                elif name in CHOICES:
                    values[name] = CHOICES[name](text)
                elif name == "area":
                    if text.lower() not in context.areas:
                        raise ValueError("No area with this code or name")
                    values[name] = context.areas[text.lower()]
                elif name == "prison_number":
                    values[name] = normalise_identifier(text)
                else:
                    if len(text) > MAX_LENGTHS.get(name, len(text)):
                        raise ValueError(f"Use at most {MAX_LENGTHS[name]} characters")
                    values[name] = text
            except ValueError as error:
                result.reasons.append(f"{name}: {error}")
        return values

    def process(self, context, chunk):
        context.matcher.load([record for _, record in chunk],
                             [_birth_date(record) for _, record in chunk])
        ids = list({p.pk for p in context.matcher.by_identifier.values()})
        context.open_cohorts = set()
        context.cohort_starts = set()
        for offender_id, cohort, started_on, ended_on in CohortMembership.objects.filter(
            offender_id__in=ids
        ).values_list("offender_id", "cohort", "started_on", "ended_on"):
            context.cohort_starts.add((offender_id, cohort, started_on))
            if ended_on is None:
                context.open_cohorts.add((offender_id, cohort))
        new_people, changed_people, memberships, rag_changes = [], {}, [], []
        results = []
        for number, record in chunk:
            result = self.check_row(context, number, record, new_people, changed_people, memberships, rag_changes)
            if result.reasons and result.outcome not in ("possible",):
                result.outcome = "rejected"
            results.append(result)
        if not context.report.has_rejections and not any(r.outcome == "rejected" for r in results):
            self.write(context, new_people, changed_people, memberships, rag_changes)
        return results

    def check_row(self, context, number, record, new_people, changed_people, memberships, rag_changes):
        result = RowResult(row=number)
        pnc, crn = normalise_identifier(record.get("pnc_number")), normalise_identifier(record.get("crn"))
        result.person = " ".join(filter(None, [record.get("first_names", ""), record.get("last_name", "")]))
        if not (pnc or crn):
            return result.reject("Give a PNC number or CRN to match the person.")
        for value, validator in ((pnc, validate_pnc_number), (crn, validate_crn)):
            try:
                validator(value)
            except ValidationError as error:
                result.reasons.extend(error.messages)
        if result.reasons:
            return result
        for key, value in (("pnc_number", pnc), ("crn", crn)):
            if value and (earlier := context.first_seen((key, value), number)) is not None:
                result.reasons.append(f"The same {'PNC number' if key == 'pnc_number' else 'CRN'} is on row "
                                      f"{earlier:,}.")
        if result.reasons:
            return result
        values = self.convert(context, record, result)
        prison = values.get("prison_number")
        if prison:
            try:
                validate_prison_number(prison)
            except ValidationError as error:
                result.reasons.extend(error.messages)
            if (earlier := context.first_seen(("prison_number", prison), number)) is not None:
                result.reasons.append(f"The same prison number is on row {earlier:,}.")
        if result.reasons:
            return result

        forced = context.forced.get(number)
        match = context.matcher.match(record, date_of_birth=values.get("date_of_birth"))
        row_key = "|".join(filter(None, [pnc, crn]))
        if forced == "new":
            person = None
            if match.kind in (EXACT, CONFLICT) or match.hidden:
                return result.reject("An identifier on this row is already on a record, so it cannot add a new "
                                     "person.")
        elif forced is not None:
            person = forced
            if match.kind == CONFLICT or (match.kind == EXACT and match.person.pk != person.pk) or match.hidden:
                return result.reject("An identifier on this row is now on another record; it was not applied.")
        elif match.hidden:
            # An identifier of someone the importer may not see: held for that person's lead agency.
            holder = match.hidden[0]
            hold_possible_match(context, number, record, result, [holder], PossibleMatch.Basis.IDENTIFIER_IN_USE,
                                row_key=row_key, review_agency_id=holder.lead_agency_id)
            result.person = ""
            return result
        elif match.kind == CONFLICT:
            return result.reject(match.reason)
        elif match.kind == POSSIBLE:
            hold_possible_match(context, number, record, result, match.candidates, match.basis, row_key=row_key)
            return result
        else:
            person = match.person  # the exact match, or None for a new person

        if person is not None and (earlier := context.first_seen(("person", person.pk), number)) is not None:
            return result.reject(f"The same person is on row {earlier:,}.")
        holder = context.matcher.by_identifier.get(("prison_number", prison)) if prison else None
        if holder is not None and (person is None or holder.pk != person.pk):
            if holder.pk not in context.matcher.visible:
                hold_possible_match(context, number, record, result, [holder], PossibleMatch.Basis.IDENTIFIER_IN_USE,
                                    row_key=row_key, review_agency_id=holder.lead_agency_id)
                result.person = ""
                return result
            return result.reject("Another person already has this prison number.")

        if person is None:
            missing = [name for name in REQUIRED_FOR_NEW if name not in values]
            if missing:
                return result.reject("No person has this PNC number or CRN. To add them, give " + ", ".join(missing)
                                     + ".")
            person = Offender(pnc_number=pnc, crn=crn, lead_agency_id=context.agency_id)
            is_new = True
        else:
            is_new = False
            result.person = person.full_name

        changed = set()
        for name in DETAIL_FIELDS:
            if name not in values:
                continue
            current = person.area_id if name == "area" else getattr(person, name)
            wanted = values[name].pk if name == "area" else values[name]
            if current != wanted:
                setattr(person, name, values[name])
                changed.add(name)
        for key, value in (("pnc_number", pnc), ("crn", crn)):
            if value and getattr(person, key) != value:
                setattr(person, key, value)
                changed.add(key)
        if changed and not is_new and not self.may_edit(context, person):
            return result.reject("Only the lead agency can change this person's details: "
                                 + ", ".join(sorted(changed)) + ".")

        membership = None
        cohort = values.get("cohort")
        started_on = values.get("cohort_started_on") or timezone.localdate()
        # Enrolled unless on the cohort now, or already enrolled from that day (a membership since ended by an exit).
        if cohort and (is_new or ((person.pk, cohort) not in context.open_cohorts
                                  and (person.pk, cohort, started_on) not in context.cohort_starts)):
            membership = {
                "cohort": cohort, "started_on": started_on,
                "iom_category": values.get("iom_category", "") if cohort == Cohort.IOM else "",
                "mappa_category": values.get("mappa_category") if cohort == Cohort.MAPPA else None,
                "mappa_level": values.get("mappa_level") if cohort == Cohort.MAPPA else None,
            }
            if cohort == Cohort.IOM and not membership["iom_category"]:
                result.reasons.append("iom_category: Give the IOM category (fixed, flex or free).")
            if cohort == Cohort.MAPPA and not (membership["mappa_category"] and membership["mappa_level"]):
                result.reasons.append("mappa_category, mappa_level: Give the MAPPA category and level.")
            if result.reasons:
                return result.reject()
            result.changes.append(f"joins {_membership_description(membership)}")

        rag = values.get("rag_status")
        rag_change = None
        if rag and rag != person.rag_status:
            rag_change = (person.rag_status, rag)
            result.changes.append(f"RAG {person.rag_status or 'none'} to {rag}")
            person.rag_status = rag
            changed.add("rag_status")

        if is_new:
            result.outcome = "created"
            new_people.append(person)
        elif changed or membership:
            result.outcome = "updated"
            result.changes[:0] = [f"changes {name.replace('_', ' ')}" for name in sorted(changed - {"rag_status"})]
            if changed:
                changed_people[person.pk] = (person, changed)
        if membership is not None:
            memberships.append((person, membership))
        if rag_change is not None:
            rag_changes.append((person, *rag_change))
        return result

    def write(self, context, new_people, changed_people, memberships, rag_changes):
        user, now = context.user, context.now
        Offender.objects.bulk_create(new_people, batch_size=1000)
        if changed_people:
            fields = set().union(*(changed for _, changed in changed_people.values()))
            people = []
            for person, changed in changed_people.values():
                if changed - {"rag_status"}:  # as in the services, a RAG change alone does not make a new version
                    person.version = F("version") + 1
                person.updated_at = now
                people.append(person)
            Offender.objects.bulk_update(people, [*sorted(fields), "version", "updated_at"], batch_size=1000)
        CohortMembership.objects.bulk_create(
            [CohortMembership(offender=person, created_by=user, **fields) for person, fields in memberships],
            batch_size=1000,
        )
        RagChange.objects.bulk_create(
            [
                RagChange(offender=person, from_status=old, to_status=new,
                          reason=f"Imported from {context.filename}"[:2000], changed_by=user,
                          agency_id=user.agency_id, changed_at=now, source=RagChange.Source.IMPORT,
                          source_reference=context.filename[:200])
                for person, old, new in rag_changes
            ],
            batch_size=1000,
        )
        touched = {p.pk: p for p in new_people}
        touched.update({p.pk: p for p, _ in changed_people.values()})
        touched.update({p.pk: p for p, _ in memberships})
        for person in touched.values():
            context.log(AccessLogEntry.Action.IMPORT, person, person.pk)


def _birth_date(record):
    try:
        return parse_date(record.get("date_of_birth") or "")
    except ValueError:
        return None
