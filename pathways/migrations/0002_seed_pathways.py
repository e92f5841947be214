"""The resettlement pathways every partnership starts with; the admin renames, adds and retires them."""

from django.db import migrations

PATHWAYS = [
    ("accommodation", "Accommodation"),
    ("ete", "Education, training and employment"),
    ("finance", "Finance, benefit and debt"),
    ("health", "Mental and physical health"),
    ("families", "Children, families and relationships"),
    ("drugs", "Drugs"),
    ("alcohol", "Alcohol"),
    ("attitudes", "Attitudes, thinking and behaviour"),
    ("abuse", "Support for women who have experienced domestic or sexual abuse"),
    ("sex_work", "Sex work and sexual exploitation"),
    ("aces", "Adverse childhood experiences"),
]


def seed_pathways(apps, schema_editor):
    Pathway = apps.get_model("pathways", "Pathway")
    for order, (key, name) in enumerate(PATHWAYS, start=1):
        Pathway.objects.get_or_create(key=key, defaults={"name": name, "order": order * 10})


def remove_pathways(apps, schema_editor):
    Pathway = apps.get_model("pathways", "Pathway")
    Pathway.objects.filter(key__in=[key for key, _ in PATHWAYS], need_assessments__isnull=True,
                           actions__isnull=True, services__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("pathways", "0001_initial")]

    operations = [migrations.RunPython(seed_pathways, remove_pathways)]
