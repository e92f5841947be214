"""Remove what no query or write used: the per-user object permission table (cases are shared with
agencies, through their groups), and the lower-case name indexes (name search uses the upper-case
ones of 0004). The date of birth's rule moves onto the field, so forms, the API and imports share it."""

import cases.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0008_name_trigram_indexes"),
    ]

    operations = [
        migrations.DeleteModel(name="OffenderUserObjectPermission"),
        migrations.RemoveIndex(model_name="alias", name="alias_name_idx"),
        migrations.RemoveIndex(model_name="offender", name="offender_name_idx"),
        migrations.AlterField(
            model_name="offender",
            name="date_of_birth",
            field=models.DateField(validators=[cases.validators.validate_date_of_birth]),
        ),
    ]
