"""Identifiers kept in one form: PNC numbers as YYYY/NNNNNNNL, CRNs and prison numbers in capitals.

Values saved before in another form (`15/123456X`, `2015/123456X`, lower case) are rewritten,
so the exact, index-backed lookup finds them. A value whose canonical form another person
already has is the same number recorded twice: it is left as it is and named in the output
for someone to resolve, rather than merged or failing the migration.
"""

import datetime
import re

from django.db import migrations

import cases.identifiers

PNC_PARTS = re.compile(r"^(\d{2}|\d{4})/(\d{1,7})([A-Z])$")
CANONICAL = {
    "pnc_number": r"^\d{4}/\d{7}[A-Z]$",
    "crn": r"^[A-Z]\d{6}$",
    "prison_number": r"^[A-Z]\d{4}[A-Z]{2}$",
}


def canonical(field, value):
    """The normalisation of cases.identifiers as it stood when this migration was written."""
    tidy = value.strip().upper().replace(" ", "")
    parts = PNC_PARTS.match(tidy) if field == "pnc_number" else None
    if parts is None:
        return tidy
    year, serial, check = parts.groups()
    if len(year) == 2:
        this_year = datetime.date.today().year
        full = this_year // 100 * 100 + int(year)
        year = str(full if full <= this_year else full - 100)
    return f"{year}/{int(serial):07d}{check}"


def normalise(apps, schema_editor):
    Offender = apps.get_model("cases", "Offender")
    for field, pattern in CANONICAL.items():
        others = Offender.objects.exclude(**{field: ""}).exclude(**{f"{field}__regex": pattern})
        for pk, value in others.values_list("pk", field).iterator():
            wanted = canonical(field, value)
            if wanted == value:
                continue  # not an identifier of a known form; validation shows it when the record is next saved
            if Offender.objects.filter(**{field: wanted}).exclude(pk=pk).exists():
                print(f"\n  person {pk}: {field} {value!r} is also recorded as {wanted!r} on another person; left as it is")
                continue
            Offender.objects.filter(pk=pk).update(**{field: wanted})


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0006_requirements_and_appointment_outcomes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="offender",
            name="crn",
            field=cases.identifiers.IdentifierField(blank=True, help_text="Probation case reference number, for example X123456", max_length=7, validators=[cases.identifiers.validate_crn], verbose_name="CRN"),
        ),
        migrations.AlterField(
            model_name="offender",
            name="pnc_number",
            field=cases.identifiers.IdentifierField(blank=True, help_text="For example, 2015/0123456X or 15/123456X", max_length=13, validators=[cases.identifiers.validate_pnc_number], verbose_name="PNC number"),
        ),
        migrations.AlterField(
            model_name="offender",
            name="prison_number",
            field=cases.identifiers.IdentifierField(blank=True, help_text="For example, A1234BC", max_length=7, validators=[cases.identifiers.validate_prison_number]),
        ),
        migrations.RunPython(normalise, migrations.RunPython.noop, elidable=False),
    ]
