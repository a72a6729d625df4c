from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("onsite", "0022_settings_history_and_import_files"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="email_sending_since",
            field=models.DateTimeField(blank=True, null=True, verbose_name="e-mail being sent since"),
        ),
    ]
