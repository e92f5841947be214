"""The model's own rules, applied to a row before it is written, fast enough for a hundred thousand rows.

`Model.full_clean()` asks the database about every check and unique constraint
(one query each), which at feed volumes would cost more than the import itself.
Here the same rules are read from the model and applied in Python:

- each field's own checks (required, length, choices, its validators);
- the model's `clean()` (for example: no outcome dated in the future);
- each `CheckConstraint`'s condition, evaluated against the instance, with the
  constraint's own `violation_error_message`.

The rules are prepared once per import: each constraint's condition becomes a function, and a
field's checks run once for each distinct value (a file repeats its groups, outcomes and dates).

Nothing is restated: change a model's field, clean() or constraint and feeds follow.
The database keeps every constraint as the last word when the rows are written.
"""

import operator
import re

from django.core.exceptions import ValidationError
from django.db.models import CheckConstraint, F, Q

_LOOKUPS = {
    "exact": operator.eq,
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
    "in": lambda value, options: value in options,
    "isnull": lambda value, wanted: (value is None) is bool(wanted),
    "regex": lambda value, pattern: re.search(pattern, value) is not None,
}


class UnsupportedRule(Exception):
    """A constraint uses a lookup this evaluator does not know: the tests list every model a feed writes."""


def _unsupported(model, lookup):
    def fails(instance):
        raise UnsupportedRule(f"{model._meta.label}: lookup {lookup}")

    return fails


def _compile(model, node):
    """A constraint's condition as a function of an instance, built once per import rather than walked per row."""
    if isinstance(node, Q):
        parts = [_compile(model, child) for child in node.children]
        combine = all if node.connector == Q.AND else any
        if node.negated:
            return lambda instance: not combine(part(instance) for part in parts)
        return lambda instance: combine(part(instance) for part in parts)
    lookup, expected = node
    name, _, kind = lookup.partition("__")
    kind = kind or "exact"
    if kind not in _LOOKUPS:
        return _unsupported(model, lookup)
    attname = model._meta.get_field(name).attname
    compare = _LOOKUPS[kind]
    if isinstance(expected, F):
        other = model._meta.get_field(expected.name).attname

        def holds(instance):
            value, wanted = getattr(instance, attname), getattr(instance, other)
            if value is None or wanted is None:
                return False  # SQL: a comparison with NULL is not true ...
            return compare(value, wanted)

    elif kind == "isnull":

        def holds(instance):
            return compare(getattr(instance, attname), expected)

    else:

        def holds(instance):
            value = getattr(instance, attname)
            if value is None or expected is None:
                return False
            return compare(value, expected)

    return holds


def _constraint_holds(condition, instance):
    # ... and a CHECK passes unless its condition is false, so a NULL comparison passes at the top level.
    try:
        return condition(instance)
    except TypeError:
        return True


# How many values of one field have their checks remembered: enough for the repeated values of a
# feed's columns (groups, outcomes, dates, courts), few enough that memory stays flat for unique text.
REMEMBERED_VALUES = 5_000


class ModelRules:
    """The rules of one model, prepared once per import for the fields a feed sets."""

    def __init__(self, model, fields):
        self.model = model
        self.fields = [model._meta.get_field(name) for name in fields]
        self.checks = [(constraint, _compile(model, constraint.condition))
                       for constraint in model._meta.constraints if isinstance(constraint, CheckConstraint)]
        # A field's own checks depend on its value alone: each distinct value is checked once.
        self.field_messages = {field.name: {} for field in self.fields}

    def messages_for(self, field, raw, instance):
        known = self.field_messages[field.name]
        try:
            key = (type(raw), raw)
            found = known.get(key)
        except TypeError:  # an unhashable value: checked every time
            key, found = None, None
        if found is not None:
            return found
        try:
            field.clean(raw, instance)
            found = ()
        except ValidationError as error:
            found = tuple(error.messages)
        if key is not None:
            if len(known) >= REMEMBERED_VALUES:
                known.clear()
            known[key] = found
        return found

    def errors(self, instance):
        """{field name or '__all__': [messages]} for everything wrong with the instance; empty when it may be saved."""
        errors = {}
        for field in self.fields:
            found = self.messages_for(field, getattr(instance, field.attname), instance)
            if found:
                errors.setdefault(field.name, []).extend(found)
        if errors:
            return errors
        try:
            instance.clean()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        for constraint, condition in self.checks:
            if not _constraint_holds(condition, instance):
                errors.setdefault("__all__", []).append(str(constraint.violation_error_message % {
                    "name": constraint.name}))
        return errors


def messages(errors, labels=None):
    """Flat messages for a row report, each led by the column it is about."""
    labels = labels or {}
    flat = []
    for name, items in errors.items():
        for item in items:
            flat.append(item if name == "__all__" else f"{labels.get(name, name)}: {item}")
    return flat
