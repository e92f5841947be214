"""What changed in each history row: "Changed address from “1 Mill Lane” to “4 Low Road”", and who changed it.

A row holds the values before its change (`history.models`); the values after it are those of the
next row of the same record, or of the record itself for its latest change. Describing a page of
rows takes a fixed number of queries: the rows, the rows after them, the records, the users and one
per kind of related record named (agencies, areas, staff, services ...).
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone


@dataclass(frozen=True)
class Change:
    """One history row described: when, the record, the lines of what changed, and by whom."""

    at: object
    record_id: int
    lines: list
    who: str
    snapshot: dict


def _tracked_fields(event_model):
    tracked = event_model.pgh_tracked_model
    names = {field.name for field in tracked._meta.concrete_fields}
    return [tracked._meta.get_field(field.name) for field in event_model._meta.concrete_fields
            if not field.name.startswith("pgh_") and field.name in names and field.name != "offender"]


def _label(field):
    label = str(field.verbose_name)
    return label if label[:2].isupper() else label[0].lower() + label[1:]


def _shown(field, value, names):
    if value is None or value == "":
        return "not set"
    if isinstance(field, models.ForeignKey):
        return names.get((field.related_model, value), "a record that no longer exists")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return "yes" if value else "no"
    if isinstance(field, models.DateTimeField):
        return f"{timezone.localtime(value):%-d %B %Y %H:%M}"
    if isinstance(field, models.DateField):
        return f"{value:%-d %B %Y}"
    text = str(value)
    return f"“{text[:200]}…”" if len(text) > 200 else f"“{text}”"


def _name(record):
    if isinstance(record, get_user_model()):
        return record.get_full_name() or record.get_username()
    return str(record)


def describe_changes(event_model, pks):
    """{pk: Change} for the history rows `pks` of `event_model`."""
    fields = _tracked_fields(event_model)
    columns = [field.attname for field in fields]
    tracked = event_model.pgh_tracked_model
    rows = list(event_model.objects.filter(pk__in=pks).values("pgh_id", "pgh_obj_id", "pgh_created_at",
                                                               "pgh_context", *columns))
    if not rows:
        return {}
    record_ids = {row["pgh_obj_id"] for row in rows}
    later = event_model.objects.filter(pgh_obj_id__in=record_ids, pgh_id__gt=min(pks)).order_by("pgh_id")
    following = {}
    for row in later.values("pgh_id", "pgh_obj_id", *columns):
        following.setdefault(row["pgh_obj_id"], []).append(row)
    current = {row["pk"]: row for row in tracked._base_manager.filter(pk__in=record_ids).values("pk", *columns)}

    def after(row):
        for candidate in following.get(row["pgh_obj_id"], []):
            if candidate["pgh_id"] > row["pgh_id"]:
                return candidate
        return current.get(row["pgh_obj_id"])

    pairs = [(row, after(row)) for row in rows]
    wanted = {}
    for row, new in pairs:
        for field in fields:
            if isinstance(field, models.ForeignKey):
                for values in (row, new or {}):
                    if values.get(field.attname) is not None:
                        wanted.setdefault(field.related_model, set()).add(values[field.attname])
    user_model = get_user_model()
    user_ids = {(row["pgh_context"] or {}).get("user") for row in rows} - {None}
    if user_ids:
        wanted.setdefault(user_model, set()).update(user_ids)
    names = {}
    for model, ids in wanted.items():
        for record in model._base_manager.filter(pk__in=ids).select_related():
            names[model, record.pk] = _name(record)

    described = {}
    for row, new in pairs:
        lines = []
        if new is None:
            lines.append("The record has since been removed.")
        else:
            for field in fields:
                old_value, new_value = row[field.attname], new[field.attname]
                if old_value != new_value and not ({old_value, new_value} <= {None, ""}):
                    lines.append(f"Changed {_label(field)} from {_shown(field, old_value, names)} "
                                 f"to {_shown(field, new_value, names)}")
        context = row["pgh_context"] or {}
        who = names.get((user_model, context.get("user")), "") if context.get("user") else ""
        described[row["pgh_id"]] = Change(
            at=row["pgh_created_at"], record_id=row["pgh_obj_id"], lines=lines,
            who=who or ("" if context else "a partner system's feed or a scheduled task"),
            snapshot={**row, **(new or {})},
        )
    return described
