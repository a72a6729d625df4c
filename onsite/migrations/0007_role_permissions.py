from django.contrib.auth.management import create_permissions
from django.db import migrations

from onsite.roles import ROLES


def grant_permissions(apps, schema_editor):
    # The roles' permissions that did not exist yet when 0001 created the roles (deploy, start).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.code)
        for dotted in role.permissions:
            app_label, codename = dotted.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("onsite", "0006_customer_code_key_unique"),
        ("workflows", "0003_permissions_to_deploy_and_start"),
    ]

    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
