from django.db import migrations

QUESTIONS = [
    ("specialty", "Which specialty does the patient need?", "specialty", [], True),
    ("doctor", "Preferred doctor", "doctor", [], False),
    ("time_window", "Preferred date and time", "text", [], False),
    ("visit_type", "New or returning patient?", "choice", ["New", "Returning"], True),
]


def create_default_script(apps, schema_editor):
    IntakeQuestion = apps.get_model("funnel", "IntakeQuestion")
    for position, (key, label, kind, choices, required) in enumerate(QUESTIONS):
        IntakeQuestion.objects.get_or_create(key=key, defaults={
            "label": label, "kind": kind, "choices": choices, "required": required, "position": position})


class Migration(migrations.Migration):
    dependencies = [("funnel", "0001_initial")]
    operations = [migrations.RunPython(create_default_script, migrations.RunPython.noop)]
