from decimal import Decimal

from django.db import migrations

# What each event is worth until a coordinator sets other rules (points, CNY).
DEFAULT_RULES = {
    "visit_as_planned": {"points": Decimal(5), "amount": Decimal(20)},
    "summary_on_time": {"points": Decimal(3), "amount": Decimal(10)},
    "summary_first_pass": {"points": Decimal(3), "amount": Decimal(10)},
    "lead_created": {"points": Decimal(2), "amount": Decimal(0)},
    "lead_won": {
        "points": Decimal(20),
        "amount": Decimal(200),
        "points_per_10k_value": Decimal(2),
        "value_share": Decimal("0.005"),
    },
    "support_completed": {"points": Decimal(5), "amount": Decimal(50)},
    "lead_contribution": {"points": Decimal(5), "amount": Decimal(100)},
}


def create_rules(apps, schema_editor):
    IncentiveRule = apps.get_model("onsite", "IncentiveRule")
    for event, values in DEFAULT_RULES.items():
        if not IncentiveRule.objects.filter(event=event, active=True).exists():
            IncentiveRule.objects.create(event=event, **values)


def remove_rules(apps, schema_editor):
    apps.get_model("onsite", "IncentiveRule").objects.filter(
        created_by__isnull=True, records__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("onsite", "0002_domain")]

    operations = [migrations.RunPython(create_rules, remove_rules)]
