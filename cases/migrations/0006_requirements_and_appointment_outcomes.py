from django.db import migrations, models


def forward(apps, schema_editor):
    """Requirements become rows; appointment outcomes take the practitioners' vocabulary.

    "Attended" becomes attended and complied, and "missed" an unacceptable absence (no
    reason was ever recorded), so the measures of missed appointments count the same
    appointments. An outcome that was recorded before its appointment time is dated at
    the appointment time, which the new rule requires.
    """
    Supervision = apps.get_model("cases", "Supervision")
    Requirement = apps.get_model("cases", "Requirement")
    Appointment = apps.get_model("cases", "Appointment")
    for field, kind in (("drug_rehabilitation_requirement", "drr"), ("alcohol_treatment_requirement", "atr")):
        Requirement.objects.bulk_create(
            [Requirement(supervision_id=pk, kind=kind)
             for pk in Supervision.objects.filter(**{field: True}).values_list("pk", flat=True).iterator()],
            batch_size=5000,
        )
    Appointment.objects.filter(
        outcome__in=["attended", "missed"], scheduled_at__gt=models.F("recorded_at")
    ).update(recorded_at=models.F("scheduled_at"))
    Appointment.objects.filter(outcome="attended").update(outcome="attended_complied")
    Appointment.objects.filter(outcome="missed").update(outcome="unacceptable_absence")


def backward(apps, schema_editor):
    Supervision = apps.get_model("cases", "Supervision")
    Appointment = apps.get_model("cases", "Appointment")
    for field, kind in (("drug_rehabilitation_requirement", "drr"), ("alcohol_treatment_requirement", "atr")):
        Supervision.objects.filter(requirements__kind=kind).update(**{field: True})
    Appointment.objects.filter(outcome__in=["attended_complied", "failed_to_comply"]).update(outcome="attended")
    Appointment.objects.filter(outcome__in=["acceptable_absence", "unacceptable_absence"]).update(
        outcome="missed", absence_reason="")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_fed_records'),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.RemoveField(
            model_name='supervision',
            name='alcohol_treatment_requirement',
        ),
        migrations.RemoveField(
            model_name='supervision',
            name='drug_rehabilitation_requirement',
        ),
    ]
