"""Customer codes compared without case or width: the key of every existing code, then (0006) unique.

Two existing customers whose codes differ only in case or width (`D-1`, `Ｄ-1`) stop the migration:
which one is the real customer is a person's decision, so the message names them to merge or recode.
"""

import unicodedata

from django.db import migrations, models


def code_key(code):
    # As onsite.customer_codes.customer_code_key at the time of writing; a migration keeps its own copy.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", code).casefold()).strip()


def fill_code_keys(apps, schema_editor):
    Customer = apps.get_model("onsite", "Customer")
    customers = list(Customer.objects.only("pk", "code"))
    groups = {}
    for customer in customers:
        customer.code_key = code_key(customer.code)
        groups.setdefault(customer.code_key, []).append(customer.code)
    clashes = [codes for codes in groups.values() if len(codes) > 1]
    if clashes:
        raise RuntimeError(
            "These customer codes differ only in case or width and would become one customer; "
            "merge or recode them, then migrate again: "
            + "; ".join(" / ".join(sorted(codes)) for codes in clashes)
        )
    Customer.objects.bulk_update(customers, ["code_key"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("onsite", "0004_playbook"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="code_key",
            field=models.CharField(
                editable=False, max_length=64, null=True, verbose_name="customer code as compared"
            ),
        ),
        migrations.RunPython(fill_code_keys, migrations.RunPython.noop),
    ]
