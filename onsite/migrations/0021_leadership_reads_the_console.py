from django.db import migrations


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(
        content_type__app_label="workflows", codename="view_processversion"
    ).first()
    group = Group.objects.filter(name="leadership").first()
    if permission and group:
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name="leadership").first()
    if group:
        group.permissions.remove(
            *group.permissions.filter(content_type__app_label="workflows", codename="view_processversion")
        )


class Migration(migrations.Migration):
    dependencies = [("onsite", "0020_notification_email_retries")]

    operations = [migrations.RunPython(grant, revoke)]
