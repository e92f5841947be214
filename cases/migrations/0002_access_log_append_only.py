from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION cases_access_log_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The access log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cases_access_log_append_only
    BEFORE UPDATE OR DELETE ON cases_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION cases_access_log_is_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS cases_access_log_append_only ON cases_accesslogentry;
DROP FUNCTION IF EXISTS cases_access_log_is_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    """Refuse UPDATE and DELETE on the access log in the database itself (DPA 2018 Part 3 logging)."""

    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
