import django.db.models.deletion
from django.db import migrations, models

# A copy of funnel.models.DEFAULT_LOST_REASONS as it was when this migration was written: a migration must
# not change when the model's list does.
DEFAULT_LOST_REASONS = [
    ("Too expensive", False),
    ("No answer", False),
    ("Chose another clinic", False),
    ("No convenient time", False),
    ("Changed their mind", False),
    ("Spam", True),
    ("Duplicate", True),
]


def create_default_reasons(apps, schema_editor):
    LostReason = apps.get_model("funnel", "LostReason")
    for position, (name, closes_fresh_case) in enumerate(DEFAULT_LOST_REASONS):
        LostReason.objects.get_or_create(name=name, defaults={"closes_fresh_case": closes_fresh_case,
                                                              "position": position})


class Migration(migrations.Migration):
    dependencies = [("funnel", "0004_one_open_case_per_branch_and_transfers")]
    operations = [
        migrations.CreateModel(
            name="LostReason",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True, verbose_name="name")),
                ("closes_fresh_case", models.BooleanField(
                    default=False, verbose_name="closes the case of a junk inquiry",
                    help_text="Closing an inquiry without answer with this reason (spam, a duplicate) also closes its "
                              "case as lost, when nothing else happened in that case yet.")),
                ("position", models.PositiveSmallIntegerField(default=0, verbose_name="position")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
            ],
            options={"verbose_name": "lost reason", "verbose_name_plural": "lost reasons",
                     "ordering": ["position", "id"]},
        ),
        migrations.AddField(
            model_name="case",
            name="listed_lost_reason",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="cases", to="funnel.lostreason",
                                    verbose_name="reason lost (from the list)"),
        ),
        migrations.RunPython(create_default_reasons, migrations.RunPython.noop),
    ]
