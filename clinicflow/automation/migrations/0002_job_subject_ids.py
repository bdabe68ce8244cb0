"""The job engine stops knowing patients: the foreign key becomes a plain id, with the branch beside it."""

from django.db import migrations, models
from django.db.models import F


def copy_subjects(apps, schema_editor):
    Job = apps.get_model("automation", "Job")
    Inquiry = apps.get_model("inbox", "Inquiry")
    Job.objects.update(subject_patient=F("patient"))
    branches = dict(Inquiry.objects.values_list("pk", "branch_id"))
    for job in Job.objects.exclude(payload={}).only("pk", "payload"):
        branch_id = branches.get((job.payload or {}).get("inquiry_id"))
        if branch_id:
            Job.objects.filter(pk=job.pk).update(branch_id=branch_id)


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_initial"), ("inbox", "0002_waiting_queue_index")]

    operations = [
        migrations.AddField("job", "subject_patient", models.BigIntegerField(blank=True, null=True)),
        migrations.AddField("job", "branch_id", models.BigIntegerField(blank=True, null=True)),
        migrations.RunPython(copy_subjects, migrations.RunPython.noop),
        migrations.RemoveField("job", "patient"),
        migrations.RenameField("job", "subject_patient", "patient_id"),
        migrations.AlterField("job", "patient_id", models.BigIntegerField(blank=True, db_index=True, null=True)),
    ]
