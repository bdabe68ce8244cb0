from django.db import migrations

ROLES = ["marketer", "compliance_officer"]


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_roles")]
    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
