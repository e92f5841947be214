"""Writing many new rows at once: PostgreSQL's COPY, and `bulk_create` on other databases.

COPY sends the rows as data in one stream, with no statement to build, send or parse for them, so
a feed's hundred thousand rows cost a fraction of what multi-row INSERTs do. It runs in the
connection's current transaction and savepoint, so a rolled-back import leaves nothing behind, and
PostgreSQL checks every constraint and fires every row-level trigger as it does for INSERT. The
values always travel as COPY data, never inside the statement.
"""

from django.db import connections, models, router

# Fields whose Python value is the value PostgreSQL is sent (Django's own preparation changes nothing
# for them): any other kind of field, a custom subclass included, goes through `get_db_prep_save`.
PLAIN_FIELDS = (
    models.AutoField, models.BigAutoField, models.SmallAutoField, models.BigIntegerField, models.BooleanField,
    models.CharField, models.DateField, models.DateTimeField, models.DecimalField, models.ForeignKey,
    models.IntegerField, models.PositiveIntegerField, models.PositiveSmallIntegerField, models.SmallIntegerField,
    models.TextField,
)


def _connection(model):
    return connections[router.db_for_write(model)]


def copy_rows(model, fields, rows):
    """Insert `rows`, each a tuple of database-ready values for the model's `fields` (names), in one COPY.

    Fields left out take their database defaults (the primary key its next value). Returns the count.
    """
    rows = list(rows)
    if not rows:
        return 0
    connection = _connection(model)
    if connection.vendor != "postgresql":
        attnames = [model._meta.get_field(name).attname for name in fields]
        model.objects.using(connection.alias).bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=1_000)
        return len(rows)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    connection.ensure_connection()
    # Django's wrapper turns a refused row (a constraint, a foreign key) into its IntegrityError, as for INSERT.
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


def new_ids(model, count):
    """`count` primary keys taken from the model's own sequence, for rows about to be copied in with them."""
    connection = _connection(model)
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [model._meta.db_table, pk.column, count])
        return [value for (value,) in cursor.fetchall()]


class _Plan:
    """How one model's unsaved instances become COPY rows: its columns, and which values need Django's help."""

    def __init__(self, model, connection):
        self.fields = [field for field in model._meta.concrete_fields if not field.generated]
        self.names = [field.name for field in self.fields]
        self.attnames = [field.attname for field in self.fields]
        # auto_now and auto_now_add set their value as the instance is saved.
        self.stamped = [field for field in self.fields if getattr(field, "auto_now", False)
                        or getattr(field, "auto_now_add", False)]
        self.prepared = [(index, field) for index, field in enumerate(self.fields)
                         if type(field) not in PLAIN_FIELDS]
        # A field with a database default and no Python one holds an expression until it is saved.
        self.computed = [index for index, field in enumerate(self.fields)
                         if field.has_db_default() and not field.has_default()]
        self.connection = connection

    def row(self, record):
        for field in self.stamped:
            field.pre_save(record, True)
        values = record.__dict__
        row = [values[name] for name in self.attnames]
        for index, field in self.prepared:
            row[index] = field.get_db_prep_save(row[index], self.connection)
        for index in self.computed:
            if hasattr(row[index], "as_sql"):
                raise ValueError(f"{record._meta.label}.{self.names[index]}: a value the database computes cannot "
                                 "be copied in; give the field a Python default.")
        return row


def copy_records(model, records):
    """Save new (unsaved) instances of one model: each is given its primary key, then all go in by one COPY.

    What `bulk_create` does, minus the statements: auto_now fields are stamped, and `record.pk` is set
    afterwards as `bulk_create` sets it on PostgreSQL. Signals are not sent, as with `bulk_create`.
    """
    records = list(records)
    if not records:
        return records
    connection = _connection(model)
    if connection.vendor != "postgresql":
        return model.objects.using(connection.alias).bulk_create(records, batch_size=1_000)
    for record, pk in zip(records, new_ids(model, len(records)), strict=True):
        record.pk = pk
    plan = _Plan(model, connection)
    copy_rows(model, plan.names, (plan.row(record) for record in records))
    for record in records:
        record._state.adding = False
        record._state.db = connection.alias
    return records
