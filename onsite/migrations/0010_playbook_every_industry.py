"""Load the playbook entries added for the industries seed 001 does not cover (manufacturing,
transport and logistics, other), so every industry a customer can have has its needs and
opportunities. The same upsert as 0004: entries already there are updated in place."""

import importlib

from django.db import migrations

playbook = importlib.import_module("onsite.migrations.0004_playbook")


class Migration(migrations.Migration):
    dependencies = [("onsite", "0009_support_outcomes_and_visit_support_incentives")]

    operations = [migrations.RunPython(playbook.load_playbook, migrations.RunPython.noop)]
