"""The model's own rules, applied to a row before it is written, fast enough for a hundred thousand rows.

`Model.full_clean()` asks the database about every check and unique constraint
(one query each), which at feed volumes would cost more than the import itself.
Here the same rules are read from the model and applied in Python:

- each field's own checks (required, length, choices, its validators);
- the model's `clean()` (for example: no outcome dated in the future);
- each `CheckConstraint`'s condition, evaluated against the instance, with the
  constraint's own `violation_error_message`.

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


def _value(instance, name):
    field = instance._meta.get_field(name)
    return getattr(instance, field.attname)


def _holds(instance, node):
    if isinstance(node, Q):
        results = (_holds(instance, child) for child in node.children)
        value = all(results) if node.connector == Q.AND else any(results)
        return not value if node.negated else value
    lookup, expected = node
    name, _, kind = lookup.partition("__")
    kind = kind or "exact"
    if kind not in _LOOKUPS:
        raise UnsupportedRule(f"{instance._meta.label}: lookup {lookup}")
    value = _value(instance, name)
    if isinstance(expected, F):
        expected = _value(instance, expected.name)
    if kind != "isnull" and (value is None or expected is None):
        return False  # SQL: a comparison with NULL is not true ...
    return _LOOKUPS[kind](value, expected)


def _constraint_holds(instance, constraint):
    # ... and a CHECK passes unless its condition is false, so a NULL comparison passes at the top level.
    try:
        return _holds(instance, constraint.condition)
    except TypeError:
        return True


class ModelRules:
    """The rules of one model, prepared once per import for the fields a feed sets."""

    def __init__(self, model, fields):
        self.model = model
        self.fields = [model._meta.get_field(name) for name in fields]
        self.checks = [c for c in model._meta.constraints if isinstance(c, CheckConstraint)]

    def errors(self, instance):
        """{field name or '__all__': [messages]} for everything wrong with the instance; empty when it may be saved."""
        errors = {}
        for field in self.fields:
            raw = getattr(instance, field.attname)
            try:
                field.clean(raw, instance)
            except ValidationError as error:
                errors.setdefault(field.name, []).extend(error.messages)
        if errors:
            return errors
        try:
            instance.clean()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        for constraint in self.checks:
            if not _constraint_holds(instance, constraint):
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
