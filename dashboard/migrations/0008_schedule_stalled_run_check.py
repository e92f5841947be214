"""Look for roll-up runs whose worker died every five minutes in django-celery-beat (editable in the admin)."""

from django.db import migrations

TASK_NAME = "Dashboard: fail roll-up runs whose worker stopped"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "dashboard.tasks.fail_stalled_rollups",
            "interval": every,
            "description": "Mark failed the roll-up runs whose heartbeat has stopped, so Recalculate works again.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0007_rollup_heartbeat"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
