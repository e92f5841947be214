"""Bulk import of people and cohort lists from CSV or XLSX files that partners export from their systems.

One row is one person, matched to the case record by PNC number, then CRN. A
matched person's details are updated with the non-blank cells of the row; an
unmatched row adds a person led by the importer's agency. A row with a cohort
enrols the person (unless they are already on it); a row with a RAG status
records a change of status (source "Imported") when it differs.

Every import is checked in full first (the dry run writes nothing), and applied
only when no row is rejected: inside one transaction, with bulk inserts and
updates so tens of thousands of rows take seconds, and one access-log entry per
person touched.

csv and openpyxl (already used for exports) are used directly rather than
django-import-export: its row-by-row resources would bypass the visibility and
rights rules of `cases.services` and the access log, and its bulk mode still
looks up each row's instance with its own query.
"""

import csv
import datetime
import io
import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .audit import log_many
from .identifiers import normalise_identifier, validate_crn, validate_pnc_number, validate_prison_number
from .models import AccessLogEntry, Area, Cohort, CohortMembership, Offender, RagChange, RagStatus
from .services import can_edit_personal_details

MAX_ROWS = 100_000
MAX_FILE_BYTES = 25 * 1024 * 1024
# Larger files are checked and applied by a Celery worker while the browser shows progress.
BACKGROUND_ROWS = 2_000
JOB_TIMEOUT = 4 * 60 * 60
PROGRESS_EVERY = 500

# (column, what it holds). The README documents the same list.
COLUMNS = [
    ("pnc_number", "PNC number, for example 2015/0123456X. Matched first."),
    ("crn", "Probation case reference number, for example X123456. Matched when there is no PNC match."),
    ("prison_number", "For example A1234BC."),
    ("first_names", "Required for a new person."),
    ("last_name", "Required for a new person."),
    ("date_of_birth", "Required for a new person. 1990-05-17 or 17/05/1990."),
    ("gender", "Required for a new person: male, female, other or not_known."),
    ("ethnicity", "asian, black, mixed, white, other or not_stated."),
    ("address", ""),
    ("postcode", ""),
    ("area", "Required for a new person: the area's code or name."),
    ("veteran", "yes or no."),
    ("care_leaver", "yes or no."),
    ("disability", "yes or no: disability or learning difficulty."),
    ("womens_cohort", "yes or no."),
    ("review_date", "When to review whether to keep the record."),
    ("rag_status", "red, amber or green."),
    ("cohort", "Enrol in this cohort: " + ", ".join(Cohort.values) + "."),
    ("iom_category", "For IOM: fixed, flex or free."),
    ("mappa_category", "For MAPPA: 1, 2 or 3."),
    ("mappa_level", "For MAPPA: 1, 2 or 3."),
    ("cohort_started_on", "When the person joined the cohort; today if blank."),
]
COLUMN_NAMES = [name for name, _ in COLUMNS]
IDENTIFIERS = ("pnc_number", "crn", "prison_number")
DETAIL_FIELDS = [
    "prison_number", "first_names", "last_name", "date_of_birth", "gender", "ethnicity", "address", "postcode",
    "area", "veteran", "care_leaver", "disability", "womens_cohort", "review_date",
]
REQUIRED_FOR_NEW = ["first_names", "last_name", "date_of_birth", "gender", "area"]
TRUE_WORDS, FALSE_WORDS = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y"]


class ImportFileError(Exception):
    """The file as a whole cannot be read: not CSV/XLSX, no recognised columns, too large."""


# ---------------------------------------------------------------------------
# Reading the file


def _header_key(text):
    key = str(text or "").strip().lower().replace(" ", "_").replace("-", "_")
    aliases = {"pnc": "pnc_number", "pnc_no": "pnc_number", "surname": "last_name", "forenames": "first_names",
               "first_name": "first_names", "dob": "date_of_birth", "rag": "rag_status", "prison_no": "prison_number"}
    return aliases.get(key, key)


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_rows(content):
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if "\x00" in text:
        raise ImportFileError("The file is not a CSV file. Upload a .csv or .xlsx file.")
    return csv.reader(io.StringIO(text, newline=""))


def _xlsx_rows(content):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise ImportFileError("The file could not be read as an Excel (.xlsx) workbook.") from error
    return workbook.worksheets[0].iter_rows(values_only=True)


def read_rows(name, content):
    """The rows of an uploaded file as (row number, {column: text}), with the columns that were ignored."""
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(f"The file must be smaller than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    lowered = (name or "").lower()
    if lowered.endswith(".csv"):
        source = _csv_rows(content)
    elif lowered.endswith(".xlsx"):
        source = _xlsx_rows(content)
    else:
        raise ImportFileError("The selected file must be a CSV or an Excel (.xlsx) file.")
    header = next(iter(source), None)
    if not header:
        raise ImportFileError("The selected file is empty.")
    keys = [_header_key(cell) for cell in header]
    known = [key if key in COLUMN_NAMES else None for key in keys]
    if not any(key in ("pnc_number", "crn") for key in known):
        raise ImportFileError("The first row must name the columns, including pnc_number or crn.")
    ignored = sorted({str(cell).strip() for cell, key in zip(header, known, strict=False) if cell and key is None})
    rows = []
    for number, values in enumerate(source, start=2):
        record = {key: _cell_text(value) for key, value in zip(known, values, strict=False) if key}
        if not any(record.values()):
            continue
        rows.append((number, record))
        if len(rows) > MAX_ROWS:
            raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files.")
    if not rows:
        raise ImportFileError("The selected file has no rows under the column names.")
    return rows, ignored


# ---------------------------------------------------------------------------
# Checking rows (the dry run) and applying them


@dataclass
class RowResult:
    row: int
    outcome: str = "unchanged"  # created, updated, unchanged or rejected
    name: str = ""
    identifiers: str = ""
    reasons: list = field(default_factory=list)
    changes: list = field(default_factory=list)

    def as_dict(self):
        return {"row": self.row, "outcome": self.outcome, "name": self.name, "identifiers": self.identifiers,
                "reasons": self.reasons, "changes": self.changes}


@dataclass
class Plan:
    results: list = field(default_factory=list)
    new_people: list = field(default_factory=list)
    changed_people: dict = field(default_factory=dict)  # pk -> (Offender, set of changed fields)
    memberships: list = field(default_factory=list)  # (Offender, CohortMembership field values)
    rag_changes: list = field(default_factory=list)  # (Offender, from, to)

    def counts(self):
        counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        for result in self.results:
            counts[result.outcome] += 1
        return counts

    def report(self, *, applied=False):
        return {"counts": self.counts(), "rows": [r.as_dict() for r in self.results], "applied": applied}


def _parse_date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("Enter a date like 1990-05-17 or 17/05/1990")


def _parse_bool(text):
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("Enter yes or no")


class _Choices:
    """A choice field's values, looked up by value or label whatever the case."""

    def __init__(self, choices):
        self.values = [str(value) for value, _ in choices]
        self.lookup = {}
        for value, label in choices:
            self.lookup[str(label).lower()] = value
            self.lookup[str(value).lower()] = value

    def __call__(self, text):
        try:
            return self.lookup[text.strip().lower()]
        except KeyError:
            raise ValueError("Use one of " + ", ".join(self.values)) from None


CHOICES = {
    "gender": _Choices(Offender.Gender.choices),
    "ethnicity": _Choices(Offender.Ethnicity.choices),
    "rag_status": _Choices(RagStatus.choices),
    "cohort": _Choices(Cohort.choices),
    "iom_category": _Choices(CohortMembership.IomCategory.choices),
    "mappa_category": _Choices(CohortMembership.MappaCategory.choices),
    "mappa_level": _Choices(CohortMembership.MappaLevel.choices),
}
MAX_LENGTHS = {
    f.name: f.max_length for f in Offender._meta.concrete_fields if getattr(f, "max_length", None) and not f.choices
}


COHORT_LABELS = dict(Cohort.choices)
IOM_CATEGORY_LABELS = dict(CohortMembership.IomCategory.choices)


def _membership_description(membership):
    """As CohortMembership.description says it, without building the model (which is slow for 10,000 rows)."""
    cohort = membership["cohort"]
    if cohort == Cohort.IOM:
        return f"IOM ({IOM_CATEGORY_LABELS[membership['iom_category']].lower()})"
    if cohort == Cohort.MAPPA:
        return f"MAPPA category {membership['mappa_category']}, level {membership['mappa_level']}"
    return COHORT_LABELS[cohort]


class _Rows:
    """What the check needs about the records the file refers to, loaded in a few queries."""

    def __init__(self, user, rows, *, lock):
        self.user = user
        wanted = {key: set() for key in IDENTIFIERS}
        for _, record in rows:
            for key in IDENTIFIERS:
                if value := normalise_identifier(record.get(key)):
                    wanted[key].add(value)
        people = Offender.objects.filter(
            Q(pnc_number__in=wanted["pnc_number"]) | Q(crn__in=wanted["crn"])
            | Q(prison_number__in=wanted["prison_number"])
        )
        if lock:
            people = people.select_for_update(of=("self",))
        people = list(people)
        self.by = {key: {getattr(p, key): p for p in people if getattr(p, key)} for key in IDENTIFIERS}
        ids = [p.pk for p in people]
        self.visible = set(Offender.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
        self.open_cohorts = set(
            CohortMembership.objects.filter(offender_id__in=ids, ended_on__isnull=True).values_list(
                "offender_id", "cohort"
            )
        )
        self.areas = {}
        for area in Area.objects.all():
            self.areas[area.code.lower()] = area
            self.areas[area.name.lower()] = area
        self._may_edit = {}

    def may_edit(self, person):
        if person.pk not in self._may_edit:
            self._may_edit[person.pk] = (
                self.user.is_superuser
                or (self.user.does_casework and person.lead_agency_id == self.user.agency_id)
                or can_edit_personal_details(self.user, person)
            )
        return self._may_edit[person.pk]


def _convert(record, result, known):
    """The row's non-blank cells as model values; problems go to `result.reasons`."""
    values = {}
    for name in DETAIL_FIELDS + ["rag_status", "cohort", "iom_category", "mappa_category", "mappa_level",
                                 "cohort_started_on"]:
        text = (record.get(name) or "").strip()
        if not text:
            continue
        try:
            if name in ("date_of_birth", "review_date", "cohort_started_on"):
                values[name] = _parse_date(text)
                if name == "date_of_birth" and values[name] >= timezone.localdate():
                    raise ValueError("Date of birth must be in the past")
            elif name in ("veteran", "care_leaver", "disability", "womens_cohort"):
                values[name] = _parse_bool(text)
            elif name in CHOICES:
                values[name] = CHOICES[name](text)
            elif name == "area":
                if text.lower() not in known.areas:
                    raise ValueError("No area with this code or name")
                values[name] = known.areas[text.lower()]
            elif name == "prison_number":
                values[name] = normalise_identifier(text)
            else:
                if len(text) > MAX_LENGTHS.get(name, len(text)):
                    raise ValueError(f"Use at most {MAX_LENGTHS[name]} characters")
                values[name] = text
        except ValueError as error:
            result.reasons.append(f"{name}: {error}")
    return values


def _check_row(user, number, record, known, seen, plan):
    result = RowResult(row=number)
    pnc, crn = normalise_identifier(record.get("pnc_number")), normalise_identifier(record.get("crn"))
    result.identifiers = " ".join(filter(None, [pnc, crn]))
    result.name = " ".join(filter(None, [record.get("first_names", ""), record.get("last_name", "")]))
    if not (pnc or crn):
        result.reasons.append("Give a PNC number or CRN to match the person.")
        return result, None
    for value, validator in ((pnc, validate_pnc_number), (crn, validate_crn)):
        try:
            validator(value)
        except ValidationError as error:
            result.reasons.extend(error.messages)
    if result.reasons:
        return result, None
    for key, value in (("pnc_number", pnc), ("crn", crn)):
        if value and (key, value) in seen:
            result.reasons.append(f"The same {'PNC number' if key == 'pnc_number' else 'CRN'} is on row "
                                  f"{seen[(key, value)]}.")
    if result.reasons:
        return result, None
    by_pnc, by_crn = known.by["pnc_number"].get(pnc), known.by["crn"].get(crn)
    if by_pnc and by_crn and by_pnc.pk != by_crn.pk:
        result.reasons.append("The PNC number and the CRN belong to two different people.")
        return result, None
    person = by_pnc or by_crn
    if person is not None and person.pk not in known.visible:
        result.reasons.append("Another person already has this PNC number or CRN, and your agency cannot see "
                              "their case. Ask their lead agency to share it.")
        return result, None
    if person is not None and ("person", person.pk) in seen:
        result.reasons.append(f"The same person is on row {seen[('person', person.pk)]}.")
        return result, None
    for key, value in (("pnc_number", pnc), ("crn", crn), ("person", getattr(person, "pk", None))):
        if value:
            seen[(key, value)] = number
    values = _convert(record, result, known)
    if person is not None and person.pnc_number and pnc and person.pnc_number != pnc:
        result.reasons.append(f"This CRN belongs to a person with another PNC number ({person.pnc_number}).")
    if person is not None and person.crn and crn and person.crn != crn:
        result.reasons.append(f"This PNC number belongs to a person with another CRN ({person.crn}).")
    prison = values.get("prison_number")
    if prison:
        try:
            validate_prison_number(prison)
        except ValidationError as error:
            result.reasons.extend(error.messages)
        holder = known.by["prison_number"].get(prison)
        if holder is not None and (person is None or holder.pk != person.pk):
            result.reasons.append("Another person already has this prison number.")
        if ("prison_number", prison) in seen:
            result.reasons.append(f"The same prison number is on row {seen[('prison_number', prison)]}.")
        seen[("prison_number", prison)] = number
    if result.reasons:
        return result, None

    if person is None:
        missing = [name for name in REQUIRED_FOR_NEW if name not in values]
        if missing:
            result.reasons.append("No person has this PNC number or CRN. To add them, give " + ", ".join(missing)
                                  + ".")
            return result, None
        if not user.agency_id:
            result.reasons.append("Your account has no agency to lead new cases.")
            return result, None
        person = Offender(pnc_number=pnc, crn=crn, lead_agency_id=user.agency_id)
        is_new = True
    else:
        is_new = False
        result.name = result.name or person.full_name

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
    if changed and not is_new and not known.may_edit(person):
        result.reasons.append("Only the lead agency can change this person's details: "
                              + ", ".join(sorted(changed)) + ".")
        return result, None

    membership = None
    cohort = values.get("cohort")
    if cohort and (is_new or (person.pk, cohort) not in known.open_cohorts):
        # Field values only: the rows are built when the import is applied, which keeps the dry run fast.
        membership = {
            "cohort": cohort, "started_on": values.get("cohort_started_on") or timezone.localdate(),
            "iom_category": values.get("iom_category", "") if cohort == Cohort.IOM else "",
            "mappa_category": values.get("mappa_category") if cohort == Cohort.MAPPA else None,
            "mappa_level": values.get("mappa_level") if cohort == Cohort.MAPPA else None,
        }
        if cohort == Cohort.IOM and not membership["iom_category"]:
            result.reasons.append("iom_category: Give the IOM category (fixed, flex or free).")
        if cohort == Cohort.MAPPA and not (membership["mappa_category"] and membership["mappa_level"]):
            result.reasons.append("mappa_category, mappa_level: Give the MAPPA category and level.")
        if result.reasons:
            return result, None
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
        plan.new_people.append(person)
    elif changed or membership:
        result.outcome = "updated"
        result.changes[:0] = [f"changes {name.replace('_', ' ')}" for name in sorted(changed - {"rag_status"})]
        if changed:
            plan.changed_people[person.pk] = (person, changed)
    if membership is not None:
        plan.memberships.append((person, membership))
    if rag_change is not None:
        plan.rag_changes.append((person, *rag_change))
    return result, person


def check_rows(user, rows, *, lock=False, progress=None):
    """The dry run: what each row would do, and why a rejected row is rejected. Writes nothing."""
    if not (user.is_superuser or user.does_casework):
        raise PermissionError("Your role cannot import people.")
    known = _Rows(user, rows, lock=lock)
    plan, seen = Plan(), {}
    for index, (number, record) in enumerate(rows, start=1):
        result, _ = _check_row(user, number, record, known, seen, plan)
        if result.reasons:
            result.outcome = "rejected"
        plan.results.append(result)
        if progress and index % PROGRESS_EVERY == 0:
            progress(index, len(rows))
    return plan


def apply_rows(user, rows, *, filename="", progress=None):
    """Check every row again and, only when none is rejected, apply them all in one transaction."""
    with transaction.atomic():
        plan = check_rows(user, rows, lock=True, progress=progress)
        if plan.counts()["rejected"]:
            return plan.report(applied=False)
        now = timezone.now()
        try:
            with transaction.atomic():
                Offender.objects.bulk_create(plan.new_people, batch_size=1000)
        except IntegrityError as error:
            raise ValidationError("Another import or a colleague added one of these people while the file was "
                                  "being imported. Nothing was imported: upload the file again.") from error
        if plan.changed_people:
            fields = set().union(*(changed for _, changed in plan.changed_people.values()))
            people = []
            for person, changed in plan.changed_people.values():
                if changed - {"rag_status"}:  # as in the services, a RAG change alone does not make a new version
                    person.version = F("version") + 1
                person.updated_at = now
                people.append(person)
            Offender.objects.bulk_update(people, [*sorted(fields), "version", "updated_at"], batch_size=1000)
        CohortMembership.objects.bulk_create(
            [CohortMembership(offender=person, created_by=user, **fields) for person, fields in plan.memberships],
            batch_size=1000,
        )
        RagChange.objects.bulk_create(
            [
                RagChange(offender=person, from_status=old, to_status=new, reason=f"Imported from {filename}"[:2000],
                          changed_by=user, agency_id=user.agency_id, changed_at=now, source=RagChange.Source.IMPORT,
                          source_reference=filename[:200])
                for person, old, new in plan.rag_changes
            ],
            batch_size=1000,
        )
        touched = {p.pk: p for p in plan.new_people}
        touched.update({p.pk: p for p, _ in plan.changed_people.values()})
        touched.update({p.pk: p for p, _ in plan.memberships})
        log_many(user, AccessLogEntry.Action.IMPORT, touched.values(), detail=f"Imported from {filename}")
    return plan.report(applied=True)


# ---------------------------------------------------------------------------
# Jobs: the rows and the report of an import, kept in the cache (Redis) between the pages and the worker


def _job_key(job_id):
    return f"cases-import:{job_id}"


def start_job(user, filename, rows, ignored_columns):
    job_id = uuid.uuid4().hex
    cache.set(_job_key(job_id) + ":rows", rows, JOB_TIMEOUT)
    save_job(job_id, {
        "id": job_id, "user_id": user.pk, "filename": filename, "total": len(rows), "ignored": ignored_columns,
        "stage": "check", "status": "queued", "done": 0, "report": None, "error": "",
    })
    return job_id


def save_job(job_id, job):
    cache.set(_job_key(job_id), job, JOB_TIMEOUT)


def get_job(job_id, user):
    """The user's own job, or None (someone else's job is as good as missing)."""
    job = cache.get(_job_key(str(job_id)[:64]))
    if not job or job["user_id"] != user.pk:
        return None
    return job


def job_rows(job_id):
    return cache.get(_job_key(job_id) + ":rows")


def run_job(job_id, user):
    """Run the job's current stage (the check, or applying) and keep its progress and report in the cache."""
    job = cache.get(_job_key(job_id))
    rows = job_rows(job_id)
    if job is None or rows is None:
        return None
    job.update(status="running", done=0)
    save_job(job_id, job)

    def progress(done, total):
        job["done"] = done
        save_job(job_id, job)

    try:
        if job["stage"] == "check":
            report = check_rows(user, rows, progress=progress).report()
        else:
            report = apply_rows(user, rows, filename=job["filename"], progress=progress)
    except (ValidationError, PermissionError) as error:
        job.update(status="failed", error=" ".join(getattr(error, "messages", [str(error)])))
    else:
        job.update(status="done", done=job["total"], report=report)
    save_job(job_id, job)
    return job
