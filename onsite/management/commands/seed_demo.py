from django.core.management.base import BaseCommand, CommandError

from onsite.demo import seed_demo
from onsite.exceptions import OnsiteError


class Command(BaseCommand):
    help = (
        "Create the demo organisation (one person per role), four group customers and a programme with the "
        "first customer enrolled. Idempotent."
    )

    def handle(self, *args, **options):
        try:
            seed_demo(self.stdout.write)
        except OnsiteError as exc:
            raise CommandError(
                f"{exc} Deploy the diagrams first: manage.py deploy_bpmn bpmn/*.bpmn"
            ) from None
