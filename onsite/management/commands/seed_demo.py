from django.core.management.base import CommandError
from django.utils.translation import gettext_lazy

from onsite.demo import seed_demo
from onsite.exceptions import OnsiteError
from workflows.management.base import LocalisedCommand


class Command(LocalisedCommand):
    help = gettext_lazy(
        "Create the demo organisation (one person per role), four group customers and a programme with the "
        "first customer enrolled. Safe to run again from any state the demo was left in: it creates what "
        "is missing and says where the demo programme stands."
    )

    def handle(self, *args, **options):
        try:
            seed_demo(
                log=self.stdout.write, warn=lambda message: self.stdout.write(self.style.WARNING(message))
            )
        except OnsiteError as exc:
            raise CommandError(str(exc)) from None
