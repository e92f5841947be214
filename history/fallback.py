"""History without triggers, for databases other than PostgreSQL (the SQLite demo).

Before a tracked record is saved, its row as stored is compared with what is about to be saved;
when a tracked field differs, the stored values become a history row, as the PostgreSQL trigger
would write them. Only saves through the ORM's save() are seen (not queryset.update()), which is
how the services change these records.
"""

from django.db import connection
from django.db.models.signals import pre_save

from .middleware import current_context
from .models import CHANGE, TRACKED


def _columns(event_model, model):
    tracked = {field.attname for field in model._meta.concrete_fields}
    return [field.attname for field in event_model._meta.concrete_fields
            if not field.name.startswith("pgh_") and field.attname in tracked]


def record_change(sender, instance, raw=False, using=None, **kwargs):
    if raw or instance.pk is None or connection.vendor == "postgresql":
        return
    event_model = TRACKED[sender]
    columns = _columns(event_model, sender)
    before = sender._base_manager.using(using).filter(pk=instance.pk).values(*columns).first()
    if before is None:
        return
    after = {column: sender._meta.get_field(name).to_python(getattr(instance, column))
             for column, name in ((field.attname, field.name) for field in sender._meta.concrete_fields)
             if column in before}
    if all(before[column] == after[column] for column in columns):
        return
    event_model.objects.using(using).create(
        pgh_obj_id=instance.pk, pgh_label=CHANGE, pgh_context=current_context(), **before
    )


def connect():
    for model in TRACKED:
        pre_save.connect(record_change, sender=model, dispatch_uid=f"history.{model._meta.label_lower}")
