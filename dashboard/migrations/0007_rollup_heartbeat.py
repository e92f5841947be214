"""Roll-up runs: a heartbeat while they work, and the task working on them."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0006_benchmark_tables'),
    ]

    operations = [
        migrations.AddField(
            model_name='rolluprun',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='rolluprun',
            name='task_id',
            field=models.CharField(blank=True, max_length=50),
        ),
    ]
