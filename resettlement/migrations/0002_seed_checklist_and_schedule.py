"""The pre-release checklist every partnership starts with (the admin renames, adds and retires items),
and the daily run that opens checklists as release dates come within the window."""

from django.db import migrations

ITEMS = [
    ("accommodation", "Accommodation for the night of release", "local_authority"),
    ("id", "Identification", "prison"),
    ("bank_account", "Bank account", "prison"),
    ("benefit_claim", "Benefit claim ready for day one", "dwp"),
    ("gp", "GP registration", "health"),
    ("treatment", "Prescriptions and treatment appointment booked", "treatment"),
    ("probation_appointment", "First probation appointment booked", "probation"),
    ("travel", "Travel on the day of release", "prison"),
]
TASK_NAME = "Through the gate: open pre-release checklists (daily)"


def seed_items(apps, schema_editor):
    ChecklistItemType = apps.get_model("resettlement", "ChecklistItemType")
    for order, (key, name, owner_kind) in enumerate(ITEMS, start=1):
        ChecklistItemType.objects.get_or_create(key=key, defaults={"name": name, "owner_kind": owner_kind,
                                                                   "order": order * 10})


def remove_items(apps, schema_editor):
    apps.get_model("resettlement", "ChecklistItemType").objects.filter(key__in=[k for k, _n, _o in ITEMS]).delete()


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="20", hour="5", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Europe/London"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "resettlement.tasks.open_release_checklists",
            "crontab": crontab,
            "description": "Open the pre-release checklist of every release that has come within the window.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("resettlement", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed_items, remove_items), migrations.RunPython(schedule, unschedule)]
