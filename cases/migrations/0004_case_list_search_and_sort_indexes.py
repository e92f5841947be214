"""Indexes for the case list's sort orders and name search, measured with EXPLAIN on 100,000 people.

- Sorting by name, last updated and date of birth walks an index and stops after one page,
  instead of sorting every visible person.
- A name search (`istartswith` on names, `icontains` on aliases, which Django writes as
  UPPER(col) LIKE UPPER(...)) reads a prefix index on each name and a trigram index on
  aliases, instead of scanning every person.

PostgreSQL only (pg_trgm and operator classes); the SQLite demo has a few hundred people and
needs none of them. They are raw SQL because they are expression and operator-class indexes
that the models do not declare.
"""

from django.db import migrations

INDEXES = [
    ("offender_sort_name_idx", "cases_offender (last_name, first_names, id)"),
    ("offender_updated_at_idx", "cases_offender (updated_at)"),
    ("offender_date_of_birth_idx", "cases_offender (date_of_birth)"),
    ("offender_last_name_prefix_idx", "cases_offender (UPPER(last_name::text) text_pattern_ops)"),
    ("offender_first_names_prefix_idx", "cases_offender (UPPER(first_names::text) text_pattern_ops)"),
    ("alias_name_trgm_idx", "cases_alias USING gin (UPPER(name::text) gin_trgm_ops)"),
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
    dependencies = [("cases", "0003_offences_and_enforcement")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
