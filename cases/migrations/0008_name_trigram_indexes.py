"""Trigram indexes on people's names, so a search that tolerates typos reads only close names.

`UPPER(name) % 'WORD'` (pg_trgm similarity) is answered from these GIN indexes instead of
comparing the word with every name. PostgreSQL only, like the other search indexes (0004).
"""

from django.db import migrations

INDEXES = [
    ("offender_last_name_trgm_idx", "cases_offender USING gin (UPPER(last_name::text) gin_trgm_ops)"),
    ("offender_first_names_trgm_idx", "cases_offender USING gin (UPPER(first_names::text) gin_trgm_ops)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_identifiers_in_one_form")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
