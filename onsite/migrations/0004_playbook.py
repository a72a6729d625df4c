"""Load the industry playbook (seed 001, adapted to a telecom operator's informatization products).

The entries live in `onsite/fixtures/industry_playbook.json` so they can be read and reviewed as data.
They are loaded here with the historical model rather than `loaddata`, which would use the current
model and break once the model changes. Loading upserts by (industry, kind, seq), so running it on
a database that already holds some entries updates them in place.
"""

import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "industry_playbook.json"


def playbook_rows():
    with FIXTURE.open(encoding="utf-8") as fixture:
        return [row["fields"] for row in json.load(fixture) if row["model"] == "onsite.playbookentry"]


def load_playbook(apps, schema_editor):
    PlaybookEntry = apps.get_model("onsite", "PlaybookEntry")
    for fields in playbook_rows():
        PlaybookEntry.objects.update_or_create(
            industry=fields["industry"],
            kind=fields["kind"],
            seq=fields["seq"],
            defaults={
                "text": fields["text"],
                "text_en": fields["text_en"],
                "products": fields["products"],
            },
        )


def remove_playbook(apps, schema_editor):
    PlaybookEntry = apps.get_model("onsite", "PlaybookEntry")
    for fields in playbook_rows():
        PlaybookEntry.objects.filter(
            industry=fields["industry"], kind=fields["kind"], seq=fields["seq"]
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("onsite", "0003_incentive_rules")]

    operations = [migrations.RunPython(load_playbook, remove_playbook)]
