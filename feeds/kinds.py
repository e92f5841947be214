"""The feeds, one per kind of fact: their columns, how a row finds its person and its record, and how it is written.

Fact feeds (offences, orders, appointments, statuses, risk) are written in bulk, a chunk at
a time. Cohort exits and RAG changes go through the case services row by row,
because each depends on the person's history as it stands (an open membership, the
status before a dated change); they are small feeds.

Every fact row carries `source_system` and `source_reference`. The system is
registered to the importer's agency the first time it is used, so no agency can
reach another's records by naming its system. The pair finds the record the row
made before: an identical row is unchanged, a corrected one updates it.
"""

import decimal
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.functional import cached_property

from cases import events, services
from cases.identifiers import normalise_identifier, validate_crn, validate_pnc_number, validate_prison_number
from cases.models import (
    AbsenceReason,
    AccessLogEntry,
    Appointment,
    Cohort,
    CohortMembership,
    Offence,
    Offender,
    RagChange,
    RagStatus,
    Requirement,
    Supervision,
    one_offence,
)
from operations.bulk import copy_records
from pathways.models import AccommodationStatus, BenefitStatus, EteStatus, TreatmentEngagement
from risk.models import RiskAssessment, RiskScore, RoshLevel, ScoreBand, ScoreKind

from .cells import Choices, parse_bool, parse_date, parse_datetime
from .importing import RowResult
from .matching import CONFLICT, EXACT, POSSIBLE, Matcher, people_by_id, row_identifiers
from .models import FeedKind, FeedSource, PossibleMatch
from .rules import ModelRules, messages

Log = AccessLogEntry.Action
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def long_date(value):
    """A date as GOV.UK writes it: 10 January 2024."""
    return f"{value.day} {value:%B %Y}"


def with_article(phrase):
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


@dataclass(frozen=True)
class Column:
    name: str
    help: str
    parse: object = None  # text -> value; None keeps the text
    required: bool = False
    example: str = ""


SOURCE_COLUMNS = [
    Column("source_system", "The partner system the row comes from, in lower case: for example police-niche. "
           "Registered to your agency the first time it is used.", required=True, example="police-niche"),
    Column("source_reference", "That system's own reference for the row. The same reference again updates the "
           "record it made.", required=True, example="CR-2026-000123"),
]
PERSON_COLUMNS = [
    Column("pnc_number", "PNC number, for example 2015/0123456X.", example="2015/0123456X"),
    Column("crn", "Probation case reference number, for example X123456.", example="X123456"),
    Column("prison_number", "For example A1234BC."),
    Column("first_names", "With last_name and date_of_birth, finds a possible match when no identifier does."),
    Column("last_name", "", example="Ashworth"),
    Column("date_of_birth", "1990-05-17 or 17/05/1990.", parse_date),
]
IDENTIFYING = ("pnc_number", "crn", "prison_number", "last_name")

NO_MATCH = ("No one on the record you can see matches this row. Add the person with the people feed first, or "
            "correct the identifiers.")


class Feed:
    kind = ""
    title = ""
    description = ""
    columns = []
    identifying_columns = IDENTIFYING

    @property
    def column_names(self):
        return [column.name for column in self.columns]

    @property
    def required_columns(self):
        return [column.name for column in self.columns if column.required]

    def example_row(self):
        return [column.example for column in self.columns]

    def start(self, context):
        pass

    def finish(self, context):
        pass


class FactFeed(Feed):
    """A feed of facts about people, each row one record found again by its source reference."""

    model = None
    own_columns = []

    @property
    def columns(self):
        return [*SOURCE_COLUMNS, *PERSON_COLUMNS, *self.own_columns]

    def rule_fields(self):
        return [column.name for column in self.own_columns if column.name in self.field_names()]

    def field_names(self):
        return self.model_field_names

    @cached_property
    def model_field_names(self):
        # Asked for each value of each row: worked out once per feed.
        return frozenset(field.name for field in self.model._meta.concrete_fields)

    # -- steps a feed fills in

    def models(self):
        return [self.model]

    def target_model(self, values):
        return self.model

    def new_record(self, context, person, values):
        raise NotImplementedError

    def record_values(self, values):
        """The model field values a row sets (columns missing from the file are left as the record has them)."""
        names = self.field_names()
        return {name: value for name, value in values.items() if name in names}

    def after_write(self, context, created, updated):
        pass

    def describe(self, record):
        return str(record)

    # -- the common run

    # Whether a row's person is needed as a whole record (to go through the case services), or only its id,
    # name and identifiers.
    whole_people = False

    def start(self, context):
        context.sources = dict(FeedSource.objects.values_list("name", "agency_id"))
        context.matcher = Matcher(context.user, whole_records=self.whole_people)
        context.rules = {model: ModelRules(model, self.rule_fields_for(model)) for model in self.models()}

    def rule_fields_for(self, model):
        names = {field.name for field in model._meta.concrete_fields if not field.is_relation}
        return [name for name in [column.name for column in self.own_columns] if name in names]

    def parse(self, context, number, record):
        result = RowResult(row=number)
        values = {}
        for column in self.columns:
            if column.name not in record:
                continue
            text = record[column.name].strip()
            if column.required and not text:
                result.reasons.append(f"{column.name}: Enter a value")
                continue
            if not text:
                values[column.name] = None if column.parse else ""
                continue
            try:
                values[column.name] = column.parse(text) if column.parse else text
            except ValueError as error:
                result.reasons.append(f"{column.name}: {error}")
        system = (values.get("source_system") or (context.default_source.name if context.default_source else ""))
        system = system.lower()
        reference = values.get("source_reference") or ""
        if system and not SOURCE_NAME.match(system):
            result.reasons.append("source_system: Use lower-case letters, digits and hyphens, up to 40 characters")
        owner = context.sources.get(system)
        if system and owner is not None and owner != context.agency_id:
            result.reasons.append(f"source_system: {system} is registered to another agency. Use the name of "
                                  "your own agency's system.")
        values["source_system"], values["source_reference"] = system, reference
        for key, validator in (("pnc_number", validate_pnc_number), ("crn", validate_crn),
                               ("prison_number", validate_prison_number)):
            if value := normalise_identifier(record.get(key)):
                try:
                    validator(value)
                except ValidationError as error:
                    result.reasons.extend(f"{key}: {message}" for message in error.messages)
        if system and reference:
            earlier = context.first_seen(("source", system, reference), number)
            if earlier is not None:
                result.reasons.append(f"source_reference: The same source reference is on row {earlier:,}. "
                                      "Each row needs its own.")
        return result, values

    def existing_records(self, context, keys):
        """{(system, reference): record} for the chunk's keys, whichever of the feed's models holds them."""
        found = {}
        if not keys:
            return found
        systems = {system for system, _ in keys}
        references = {reference for _, reference in keys}
        for model in self.models():
            for record in model.objects.filter(source_system__in=systems, source_reference__in=references):
                found[(record.source_system, record.source_reference)] = record
        return found

    def matched_rows(self, context, chunk, results):
        """The chunk's rows about one person the importer may see: (key, values, before, person, result) each.

        Every row's result is appended to `results`; a row rejected as it was read, or not matched to
        one person (rejected, or held as a possible match), is marked there and not yielded.
        """
        parsed = [(number, record, *self.parse(context, number, record)) for number, record in chunk]
        keys = {(v["source_system"], v["source_reference"]) for _, _, r, v in parsed if not r.reasons}
        existing = self.existing_records(context, keys)
        context.matcher.load([record for _, record, r, _ in parsed if not r.reasons],
                             [v.get("date_of_birth") for _, _, r, v in parsed if not r.reasons])
        owners = {record.offender_id for record in existing.values()}
        visible_owners = set(
            Offender.objects.visible_to(context.user).filter(pk__in=owners).values_list("pk", flat=True)
        ) if owners else set()
        if not visible_owners:
            people = {}
        elif self.whole_people:
            people = Offender.objects.in_bulk(visible_owners)
        else:
            people = people_by_id(visible_owners)
        for number, record, result, values in parsed:
            results.append(result)
            if result.reasons:
                result.outcome = "rejected"
                continue
            key = (values["source_system"], values["source_reference"])
            before = existing.get(key)
            person = self.find_person(context, number, record, values, result, before, visible_owners, people)
            if person is None:
                continue
            result.person = person.full_name
            yield key, values, before, person, result

    def process(self, context, chunk):
        to_create, to_update = [], []
        results = []
        for key, values, before, person, result in self.matched_rows(context, chunk, results):
            model = self.target_model(values)
            if before is not None and type(before) is not model:
                result.reject("This source reference was recorded for another kind of record; it cannot change "
                              "kind. Give the row a new reference.")
                continue
            if before is None:
                record_ = self.new_record(context, person, values)
                record_.source_system, record_.source_reference = key
                changed = None
            else:
                record_ = before
                changed = self.apply_values(context, record_, values)
            errors = context.rules[model].errors(record_)
            if errors:
                result.reject(*messages(errors))
                continue
            if before is None:
                result.outcome = "created"
                result.changes.append(f"adds {self.describe(record_)}")
                to_create.append((record_, values))
            elif changed:
                result.outcome = "updated"
                result.changes.append(f"corrects {self.describe(record_)}: " + ", ".join(sorted(changed)))
                to_update.append((record_, values, changed))
            else:
                result.outcome = "unchanged"
        if not any(r.outcome == "rejected" for r in results) and not context.report.has_rejections:
            self.write(context, to_create, to_update)
        return results

    def apply_values(self, context, record, values):
        changed = set()
        for name, value in self.record_values(values).items():
            if name in ("source_system", "source_reference"):
                continue
            if getattr(record, name) != value:
                setattr(record, name, value)
                changed.add(name)
        return changed | self.extra_changes(record, values)

    def extra_changes(self, record, values):
        return set()

    def write(self, context, to_create, to_update):
        register_sources(context, {(r.source_system) for r, _ in to_create})
        by_model = {}
        for record, _ in to_create:
            by_model.setdefault(type(record), []).append(record)
        for model, records in by_model.items():
            copy_records(model, records)
        updates = {}
        for record, _, changed in to_update:
            updates.setdefault(type(record), ([], set()))
            updates[type(record)][0].append(record)
            updates[type(record)][1].update(changed - self.extra_fields())
        for model, (records, fields) in updates.items():
            if fields:
                model.objects.bulk_update(records, sorted(fields), batch_size=1_000)
        self.after_write(context, to_create, to_update)
        for record, _ in to_create:
            context.log(Log.IMPORT, record, record.offender_id)
        for record, _, changed in to_update:
            context.log(Log.CHANGE, record, record.offender_id,
                        f"Corrected by import from {context.filename}: " + ", ".join(sorted(changed)))

    def extra_fields(self):
        return set()

    def find_person(self, context, number, record, values, result, before, visible_owners, people):
        """The person the row is about, or None with the row marked rejected or held as a possible match."""
        forced = context.forced.get(number)
        if forced is not None:
            return forced
        match = context.matcher.match(record, date_of_birth=values.get("date_of_birth"))
        if before is not None:
            if before.offender_id not in visible_owners:
                result.reject(NO_MATCH)
                return None
            owner = people[before.offender_id]
            if match.kind in (EXACT, CONFLICT) and match.person is not None and match.person.pk != owner.pk:
                result.reject(f"This source reference was recorded for {owner.full_name}, not "
                              f"{match.person.full_name}. A record cannot move to another person: give the row a "
                              "new reference.")
                return None
            return owner
        if match.kind == EXACT:
            return match.person
        if match.kind == CONFLICT:
            result.reject(match.reason)
            return None
        if match.kind == POSSIBLE:
            hold_possible_match(context, number, record, result, match.candidates, match.basis,
                                row_key="|".join((self.kind, values["source_system"], values["source_reference"])))
            return None
        if not (row_identifiers(record) or (record.get("last_name") and values.get("date_of_birth"))):
            result.reject("Give a PNC number, CRN or prison number, or a surname and date of birth, to find the "
                          "person.")
        else:
            result.reject(NO_MATCH)
        return None


def register_sources(context, names):
    """Register first-used source systems to the importer's agency (inside the import's transaction)."""
    for name in names - set(context.sources):
        FeedSource.objects.create(name=name, agency_id=context.agency_id)
        context.sources[name] = context.agency_id


def hold_possible_match(context, number, record, result, candidates, basis, *, row_key, review_agency_id=None):
    """Keep the row for someone to confirm or reject; unconfirmed, it changes nothing.

    A row already waiting from an earlier file is not held twice. A row whose
    match was rejected before is reported as matching no one.
    """
    review_agency_id = review_agency_id or context.agency_id
    earlier = PossibleMatch.objects.filter(kind=context.feed.kind, importing_agency_id=context.agency_id,
                                           row_key=row_key[:200]).order_by("-created_at").first()
    if earlier is not None and earlier.status == PossibleMatch.Status.REJECTED:
        result.reject(NO_MATCH)
        return
    result.outcome = "possible"
    result.reasons.append("Held for review: this row may be about someone already on the record. Nothing is "
                          "changed until the match is confirmed.")
    if earlier is not None and earlier.status == PossibleMatch.Status.WAITING:
        result.match = earlier.pk
        return
    held = PossibleMatch.objects.create(
        run=context.run, kind=context.feed.kind, row_number=number, record=record, row_key=row_key[:200],
        basis=basis, review_agency_id=review_agency_id, importing_agency_id=context.agency_id,
    )
    held.candidates.set(candidates)
    result.match = held.pk


# -- Offences ------------------------------------------------------------------------------------------------------

OFFENCE_OUTCOMES = Choices(Offence.Outcome.choices, {
    "convicted": Offence.Outcome.CONVICTION, "cautioned": Offence.Outcome.CAUTION,
    "nfa": Offence.Outcome.NO_FURTHER_ACTION, "community resolution": Offence.Outcome.OUT_OF_COURT,
})


class OffencesFeed(FactFeed):
    kind = FeedKind.OFFENCES
    title = "Offences"
    description = "Arrests, charges, cautions and court outcomes from police and court systems."
    model = Offence
    own_columns = [
        Column("committed_on", "Date of the offence.", parse_date, required=True, example="2026-01-14"),
        Column("offence_group", "Home Office offence group: " + ", ".join(Offence.Group.values) + ".",
               Choices(Offence.Group.choices), required=True, example="theft"),
        Column("drug_related", "yes or no.", parse_bool, example="no"),
        Column("alcohol_related", "yes or no.", parse_bool, example="yes"),
        Column("description", "For example: shoplifting, Tesco Northtown."),
        Column("outcome", "charged, convicted, cautioned, acquitted, nfa (no further action), out_of_court or "
               "pending (the default).", OFFENCE_OUTCOMES, example="convicted"),
        Column("outcome_on", "Date of the outcome (for a charge, the charge date); blank while pending.", parse_date,
               example="2026-02-20"),
        Column("court", "The court that dealt with the case.", example="Northtown Magistrates' Court"),
    ]

    def new_record(self, context, person, values):
        record = Offence(offender_id=person.pk, recorded_by_agency_id=context.agency_id, recorded_at=context.now)
        for name, value in self.record_values(values).items():
            setattr(record, name, value)
        return record

    def record_values(self, values):
        fields = super().record_values(values)
        for flag in ("drug_related", "alcohol_related"):
            if flag in fields and fields[flag] is None:
                fields[flag] = False
        if "outcome" in fields and fields["outcome"] is None:
            fields["outcome"] = Offence.Outcome.PENDING
        return fields

    def describe(self, record):
        # A dict look-up, not get_FOO_display(), which costs more than the rest of the row's report.
        return f"{one_offence(record.offence_group)} on {long_date(record.committed_on)}"

    def after_write(self, context, created, updated):
        if created:
            # Once the file commits: the people's offender managers hear of new offences (never on a dry run).
            # By id: what waits for the commit stays small however long the file.
            events.publish(events.offences_arrived, offence_ids=[record.pk for record, _ in created], actor=None)


# -- Orders --------------------------------------------------------------------------------------------------------

REQUIREMENTS = Choices(Requirement.Kind.choices, {"mental health treatment": Requirement.Kind.MHTR,
                                                  "drug rehabilitation": Requirement.Kind.DRR,
                                                  "alcohol treatment": Requirement.Kind.ATR})


class OrdersFeed(FactFeed):
    kind = FeedKind.ORDERS
    title = "Orders"
    description = "Community orders, suspended sentences and licences, with requirements and releases."
    model = Supervision
    own_columns = [
        Column("kind", "community_order, suspended_sentence, licence, post_sentence, custody or out_of_court.",
               Choices(Supervision.Kind.choices), required=True, example="community_order"),
        Column("started_on", "Date of sentence, or of release for a licence.", parse_date, required=True,
               example="2026-01-20"),
        Column("ends_on", "Date the order or licence ends.", parse_date, example="2027-01-19"),
        Column("released_on", "Date of release from custody (or the expected date).", parse_date),
        Column("release_type", "planned or unplanned. Friday releases are found from the date.",
               Choices(Supervision.ReleaseType.choices)),
        Column("requirements", "Separated by semicolons: " + ", ".join(Requirement.Kind.values) + ".",
               REQUIREMENTS.many, example="drr; rar"),
        Column("other_requirements", "Anything else the order requires."),
    ]

    def rule_fields_for(self, model):
        return [name for name in super().rule_fields_for(model) if name != "requirements"]

    def new_record(self, context, person, values):
        record = Supervision(offender_id=person.pk, responsible_agency_id=context.agency_id)
        for name, value in self.record_values(values).items():
            setattr(record, name, value)
        record.wanted_requirements = values.get("requirements") or []
        return record

    def record_values(self, values):
        fields = super().record_values(values)
        fields.pop("requirements", None)
        for name in ("release_type", "other_requirements"):
            if name in fields and fields[name] is None:
                fields[name] = ""
        return fields

    def existing_records(self, context, keys):
        found = super().existing_records(context, keys)
        held = {}
        for supervision_id, kind in Requirement.objects.filter(
            supervision__in=[r.pk for r in found.values()]
        ).values_list("supervision_id", "kind"):
            held.setdefault(supervision_id, set()).add(kind)
        for record in found.values():
            record.held_requirements = held.get(record.pk, set())
        return found

    def extra_changes(self, record, values):
        if "requirements" not in values:
            record.wanted_requirements = list(record.held_requirements)
            return set()
        record.wanted_requirements = values["requirements"] or []
        return {"requirements"} if set(record.wanted_requirements) != record.held_requirements else set()

    def extra_fields(self):
        return {"requirements"}

    def after_write(self, context, created, updated):
        corrected = [record for record, _, changed in updated if "requirements" in changed]
        Requirement.objects.filter(supervision__in=corrected).delete()
        records = [record for record, _ in created] + corrected
        rows = [Requirement(supervision=record, kind=kind) for record in records for kind in record.wanted_requirements]
        Requirement.objects.bulk_create(rows, batch_size=1_000)

    def describe(self, record):
        return f"{with_article(record.get_kind_display().lower())} from {long_date(record.started_on)}"


# -- Appointments ----------------------------------------------------------------------------------------------------

APPOINTMENT_OUTCOMES = Choices(Appointment.Outcome.choices, {
    "attended": Appointment.Outcome.ATTENDED_COMPLIED, "complied": Appointment.Outcome.ATTENDED_COMPLIED,
    "failed to comply": Appointment.Outcome.FAILED_TO_COMPLY,
})


class AppointmentsFeed(FactFeed):
    kind = FeedKind.APPOINTMENTS
    title = "Appointments"
    description = "Supervision appointments and contacts, with their outcomes as practitioners record them."
    model = Appointment
    own_columns = [
        Column("scheduled_at", "Date and time, 2026-03-27 14:30 (UK time).", parse_datetime, required=True,
               example="2026-02-03 10:30"),
        Column("kind", "supervision, home_visit, treatment, ete, housing or other.",
               Choices(Appointment.Kind.choices), required=True, example="supervision"),
        Column("outcome", "attended_complied, failed_to_comply, acceptable_absence, unacceptable_absence, "
               "scheduled (the default), rescheduled or cancelled. Only what has happened can be recorded.",
               APPOINTMENT_OUTCOMES, example="attended_complied"),
        Column("absence_reason", "For an acceptable absence: " + ", ".join(AbsenceReason.values) + ".",
               Choices(AbsenceReason.choices)),
        Column("notes", ""),
    ]

    def new_record(self, context, person, values):
        record = Appointment(offender_id=person.pk, agency_id=context.agency_id, recorded_at=context.now)
        for name, value in self.record_values(values).items():
            setattr(record, name, value)
        return record

    def record_values(self, values):
        fields = super().record_values(values)
        if "outcome" in fields and fields["outcome"] is None:
            fields["outcome"] = Appointment.Outcome.SCHEDULED
        for name in ("absence_reason", "notes"):
            if name in fields and fields[name] is None:
                fields[name] = ""
        return fields

    def apply_values(self, context, record, values):
        before = record.outcome
        changed = super().apply_values(context, record, values)
        if record.outcome != before:
            record.recorded_at = context.now
            changed.add("recorded_at")
        return changed

    def describe(self, record):
        return f"{with_article(record.get_kind_display().lower())} appointment on {long_date(record.scheduled_at)}"


# -- Statuses ----------------------------------------------------------------------------------------------------------

STATUS_MODELS = {"accommodation": AccommodationStatus, "ete": EteStatus, "benefit": BenefitStatus,
                 "treatment": TreatmentEngagement}


class StatusesFeed(FactFeed):
    kind = FeedKind.STATUSES
    title = "Statuses"
    description = "Accommodation, education, training and employment, benefit and treatment statuses, each from a date."
    own_columns = [
        Column("pathway", "accommodation, ete, benefit or treatment.", Choices(
            [(key, key) for key in STATUS_MODELS], {"education training and employment": "ete", "benefits": "benefit"}),
            required=True, example="accommodation"),
        Column("status", "accommodation: " + ", ".join(AccommodationStatus.Status.values) + "; ete: "
               + ", ".join(EteStatus.Status.values) + "; benefit: " + ", ".join(BenefitStatus.Status.values)
               + "; treatment (the stage): " + ", ".join(TreatmentEngagement.Stage.values) + ".",
               required=True, example="settled"),
        Column("effective_on", "The date the status applies from; not in the future.", parse_date, required=True,
               example="2026-01-21"),
        Column("on_release_day", "Accommodation only: yes for where the person went on the day of release.",
               parse_bool),
        Column("substance", "Treatment only: drugs or alcohol.", Choices(TreatmentEngagement.Substance.choices)),
        Column("requirement", "Treatment only: none, drr or atr.", Choices(TreatmentEngagement.Requirement.choices)),
        Column("notes", ""),
    ]
    status_choices = {
        "accommodation": Choices(AccommodationStatus.Status.choices),
        "ete": Choices(EteStatus.Status.choices),
        "benefit": Choices(BenefitStatus.Status.choices),
        "treatment": Choices(TreatmentEngagement.Stage.choices),
    }

    def models(self):
        return list(STATUS_MODELS.values())

    def target_model(self, values):
        return STATUS_MODELS[values["pathway"]]

    def rule_fields_for(self, model):
        names = {field.name for field in model._meta.concrete_fields if not field.is_relation}
        wanted = ["status", "stage", "effective_on", "on_release_day", "substance", "requirement", "notes"]
        return [name for name in wanted if name in names]

    def parse(self, context, number, record):
        result, values = super().parse(context, number, record)
        pathway, status = values.get("pathway"), values.get("status")
        if pathway and status:
            try:
                values["status"] = self.status_choices[pathway](status)
            except ValueError as error:
                result.reasons.append(f"status: {error}")
        if pathway == "treatment" and not values.get("substance"):
            result.reasons.append("substance: Give drugs or alcohol for a treatment status")
        for name, only in (("on_release_day", "accommodation"), ("substance", "treatment"),
                           ("requirement", "treatment")):
            if values.get(name) and pathway != only:
                result.reasons.append(f"{name}: Only for the {only} pathway")
        return result, values

    def record_values(self, values):
        model = STATUS_MODELS[values["pathway"]]
        names = {field.name for field in model._meta.concrete_fields}
        fields = {}
        for name, value in values.items():
            target = "stage" if (name == "status" and model is TreatmentEngagement) else name
            if target in names and target not in ("pathway",):
                fields[target] = value
        if fields.get("on_release_day") is None and "on_release_day" in names and "on_release_day" in fields:
            fields["on_release_day"] = False
        if "requirement" in fields and fields["requirement"] is None:
            fields["requirement"] = TreatmentEngagement.Requirement.NONE
        if "notes" in fields and fields["notes"] is None:
            fields["notes"] = ""
        return fields

    def new_record(self, context, person, values):
        model = STATUS_MODELS[values["pathway"]]
        record = model(offender_id=person.pk, recorded_by=context.user, agency_id=context.agency_id)
        for name, value in self.record_values(values).items():
            setattr(record, name, value)
        return record

    def describe(self, record):
        label, effective_on = getattr(record, "get_status_display", None), getattr(record, "effective_on", None)
        if label is not None and effective_on is not None:
            return (f"{with_article(str(record._meta.verbose_name))} ({label().lower()}) "
                    f"from {long_date(effective_on)}")
        return str(record).lower()


# -- Risk ------------------------------------------------------------------------------------------------------------

ROSH = "rosh"
RISK_MEASURES = Choices([(ROSH, "Risk of serious harm"), *ScoreKind.choices],
                        {"ogrs": ScoreKind.OGRS_2, "ogrs3": ScoreKind.OGRS_2, "osp/c": ScoreKind.OSP_C,
                         "osp/i": ScoreKind.OSP_I})


def parse_percentage(text):
    try:
        value = decimal.Decimal(text.strip().rstrip("%").strip())
    except decimal.InvalidOperation:
        raise ValueError("Enter the score as a percentage, for example 62.5") from None
    if not value.is_finite():
        raise ValueError("Enter the score as a percentage, for example 62.5")
    return value


class RiskFeed(FactFeed):
    """Risk held by a partner's assessment system (OASys through nDelius, for example): each row an assessment
    on a day, added to the person's risk history as if typed in, never overwriting an earlier one."""

    kind = FeedKind.RISK
    title = "Risk"
    description = ("Risk of serious harm with the tier, and predictor scores (OGRS, OGP, OVP, RSR, OSP), from the "
                   "assessment system that holds them.")
    own_columns = [
        Column("measure", "rosh (risk of serious harm, with the tier) or a predictor score: "
               + ", ".join(ScoreKind.values) + ".", RISK_MEASURES, required=True, example="rosh"),
        Column("assessed_on", "Date of the assessment; not in the future.", parse_date, required=True,
               example="2026-01-12"),
        Column("level", "rosh only: low, medium, high or very_high.", Choices(RoshLevel.choices), example="high"),
        Column("tier", "rosh only: the probation tier, a letter A to D and a number 0 to 3, for example B2.",
               example="B2"),
        Column("score", "Scores only: the likelihood as a percentage, for example 62.5.", parse_percentage),
        Column("band", "Scores only: low, medium, high or very_high. Give the score, the band or both.",
               Choices(ScoreBand.choices)),
        Column("notes", "rosh only."),
    ]
    fields_by_model = {
        RiskAssessment: {"level": "rosh_level", "tier": "tier", "notes": "notes", "assessed_on": "assessed_on"},
        RiskScore: {"measure": "kind", "score": "score", "band": "band", "assessed_on": "assessed_on"},
    }

    def models(self):
        return [RiskAssessment, RiskScore]

    def target_model(self, values):
        return RiskAssessment if values["measure"] == ROSH else RiskScore

    def rule_fields_for(self, model):
        return list(self.fields_by_model[model].values())

    def parse(self, context, number, record):
        result, values = super().parse(context, number, record)
        measure = values.get("measure")
        if measure == ROSH:
            if not values.get("level"):
                result.reasons.append("level: Give the risk of serious harm (low, medium, high or very_high)")
            wrong = ("score", "band")
        else:
            wrong = ("level", "tier", "notes")
        result.reasons.extend(f"{name}: Only for {'predictor scores' if name in ('score', 'band') else 'rosh rows'}"
                              for name in wrong if measure and values.get(name) not in (None, ""))
        return result, values

    def record_values(self, values):
        model = self.target_model(values)
        fields = {}
        for column, name in self.fields_by_model[model].items():
            if column in values:
                value = values[column]
                fields[name] = value if value is not None or name == "score" else ""
        if "tier" in fields:
            fields["tier"] = fields["tier"].strip().upper()
        return fields

    def new_record(self, context, person, values):
        model = self.target_model(values)
        record = model(offender_id=person.pk, agency_id=context.agency_id, recorded_by=context.user,
                       recorded_at=context.now)
        for name, value in self.record_values(values).items():
            setattr(record, name, value)
        return record

    def describe(self, record):
        if isinstance(record, RiskAssessment):
            return (f"{record.get_rosh_level_display().lower()} risk of serious harm"
                    + (f", tier {record.tier}," if record.tier else "") + f" on {long_date(record.assessed_on)}")
        return f"{record.get_kind_display()} {record.display_value} on {long_date(record.assessed_on)}"


# -- Cohort exits and RAG changes: through the case services, row by row --------------------------------------------


class PersonRowFeed(FactFeed):
    """A feed whose rows each depend on the person's history: applied row by row through the services."""

    whole_people = True

    def process(self, context, chunk):
        results = []
        for key, values, before, person, result in self.matched_rows(context, chunk, results):
            try:
                self.apply_row(context, person, values, before, result)
            except ValidationError as error:
                result.reject(*messages(error.message_dict) if hasattr(error, "error_dict") else error.messages)
            else:
                register_sources(context, {key[0]})
        return results


class CohortExitsFeed(PersonRowFeed):
    kind = FeedKind.COHORT_EXITS
    title = "Cohort exits"
    description = "People leaving a cohort, with the date and the reason."
    model = CohortMembership
    own_columns = [
        Column("cohort", ", ".join(Cohort.values) + ".", Choices(Cohort.choices), required=True, example="iom"),
        Column("ended_on", "The date the person left; not in the future.", parse_date, required=True,
               example="2026-03-31"),
        Column("exit_reason", ", ".join(CohortMembership.ExitReason.values) + ".",
               Choices(CohortMembership.ExitReason.choices), required=True, example="completed"),
    ]

    def existing_records(self, context, keys):
        found = {}
        if keys:
            for membership in CohortMembership.objects.filter(
                exit_source_system__in={s for s, _ in keys}, exit_source_reference__in={r for _, r in keys}
            ):
                found[(membership.exit_source_system, membership.exit_source_reference)] = membership
        return found

    def apply_row(self, context, person, values, before, result):
        cohort, ended_on, reason = values["cohort"], values["ended_on"], values["exit_reason"]
        label = dict(Cohort.choices)[cohort]
        if before is not None:
            if before.cohort != cohort:
                raise ValidationError("This source reference ended another cohort membership; give the row a new "
                                      "reference.")
            if (before.ended_on, before.exit_reason) == (ended_on, reason):
                result.outcome = "unchanged"
                return
            if ended_on < before.started_on:
                raise ValidationError({"ended_on": "The end date must be on or after the start date."})
            if ended_on > context.now.date():
                raise ValidationError({"ended_on": "The end date cannot be in the future."})
            before.ended_on, before.exit_reason = ended_on, reason
            before.save(update_fields=["ended_on", "exit_reason"])
            context.log(Log.CHANGE, before, person.pk, f"Exit corrected by import from {context.filename}")
            result.outcome = "updated"
            result.changes.append(f"corrects the {label} exit")
            return
        membership = person.cohort_memberships.filter(cohort=cohort, ended_on__isnull=True).first()
        if membership is None:
            raise ValidationError({"cohort": f"{person.full_name} is not on {label}."})
        services.end_cohort_membership(context.user, membership, ended_on=ended_on, exit_reason=reason)
        CohortMembership.objects.filter(pk=membership.pk).update(
            exit_source_system=values["source_system"], exit_source_reference=values["source_reference"])
        result.outcome = "updated"
        result.changes.append(f"leaves {label} on {long_date(ended_on)}")


class RagFeed(PersonRowFeed):
    kind = FeedKind.RAG
    title = "RAG changes"
    description = "Dated changes of RAG status with their reasons: an old tracker can be brought in."
    model = RagChange
    own_columns = [
        Column("rag_status", "red, amber or green.", Choices(RagStatus.choices), required=True, example="amber"),
        Column("changed_at", "When it changed: a date (taken as midday) or a date and time; not in the future.",
               None, required=True, example="2026-02-01"),
        Column("reason", "Why.", required=True, example="Engaging with treatment; housing found."),
    ]

    def parse(self, context, number, record):
        result, values = super().parse(context, number, record)
        if values.get("changed_at"):
            import datetime

            try:
                values["changed_at"] = parse_datetime(values["changed_at"], date_only_time=datetime.time(12))
            except ValueError as error:
                result.reasons.append(f"changed_at: {error}")
        return result, values

    def apply_row(self, context, person, values, before, result):
        status, changed_at, reason = values["rag_status"], values["changed_at"], values["reason"]
        if before is not None:
            if (before.to_status, before.changed_at, before.reason) == (status, changed_at, reason):
                result.outcome = "unchanged"
                return
            if (before.to_status, before.changed_at) != (status, changed_at):
                if person.rag_changes.filter(Q(changed_at__gt=before.changed_at)).exists():
                    raise ValidationError("Only the latest RAG change can have its status or date corrected; record "
                                          "a new change instead.")
                if changed_at > context.now:
                    raise ValidationError({"changed_at": "The date cannot be in the future."})
                if status == before.from_status:
                    raise ValidationError({"rag_status": "The change would not change the status."})
                Offender.objects.filter(pk=person.pk).update(rag_status=status)
            before.to_status, before.changed_at, before.reason = status, changed_at, reason
            before.save(update_fields=["to_status", "changed_at", "reason"])
            context.log(Log.CHANGE, before, person.pk, f"RAG change corrected by import from {context.filename}")
            result.outcome = "updated"
            result.changes.append(f"corrects the RAG change of {long_date(changed_at)}")
            return
        services.record_rag_change(
            context.user, person, to_status=status, reason=reason, changed_at=changed_at,
            source=RagChange.Source.IMPORT, source_system=values["source_system"],
            source_reference=values["source_reference"],
        )
        result.outcome = "created"
        result.changes.append(f"RAG {status} from {long_date(changed_at)}")


FACT_FEEDS = [OffencesFeed(), OrdersFeed(), StatusesFeed(), AppointmentsFeed(), CohortExitsFeed(), RagFeed(),
              RiskFeed()]
