from datetime import date

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from onsite.exceptions import OnsiteError
from onsite.services.winback import start_win_back_targets
from workflows.management.base import LocalisedCommand


class Command(LocalisedCommand):
    help = gettext_lazy(
        "Start a win-back task for every competitor product expiring within the window that has none yet "
        "for its expiry date. Safe to run any number of times."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            dest="day",
            help=gettext_lazy("count the window from this day (YYYY-MM-DD; default: today)"),
        )
        parser.add_argument(
            "--window-days", type=int, help=gettext_lazy("default: the ONSITE WIN_BACK_WINDOW_DAYS setting")
        )

    def handle(self, *args, day: str | None, window_days: int | None, **options):
        try:
            today = date.fromisoformat(day) if day else None
        except ValueError:
            raise CommandError(_("%(value)s is not a date (YYYY-MM-DD).") % {"value": day}) from None
        if window_days is not None and window_days < 0:
            raise CommandError(_("The window cannot be negative."))
        try:
            started = start_win_back_targets(today=today, window_days=window_days)
        except OnsiteError as exc:
            raise CommandError(str(exc)) from None
        for target in started:
            self.stdout.write(
                f"{target.customer.code}\t{target.product.product}\t{target.expiry_date}\t#{target.instance_id}"
            )
        self.stdout.write(
            ngettext("%(count)d win-back task started.", "%(count)d win-back tasks started.", len(started))
            % {"count": len(started)}
        )
