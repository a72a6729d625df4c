# Apart from 0005: PostgreSQL refuses to alter a table in the transaction that updated its rows.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("onsite", "0005_customer_code_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="code_key",
            field=models.CharField(
                editable=False,
                error_messages={
                    "unique": "Another customer already has this code, written in another case or width."
                },
                max_length=64,
                unique=True,
                verbose_name="customer code as compared",
            ),
        ),
    ]
