from django.contrib.auth.management import create_permissions
from django.db import migrations

from onsite.roles import ROLES


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    LaneRole = apps.get_model("workflows", "LaneRole")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.code)
        for dotted in role.permissions:
            app_label, codename = dotted.split(".")
            # A permission added by a later migration is granted by the migration after it (0005).
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:
                group.permissions.add(found)
        for lane in role.lanes:
            LaneRole.objects.get_or_create(lane=lane, defaults={"role": group})


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=[role.code for role in ROLES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("workflows", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
