from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from workflows.management.base import LocalisedCommand
from workflows.services import fire_due_timers


class Command(LocalisedCommand):
    help = gettext_lazy("Fire every BPMN timer that is due now, or at the moment given with --now.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            dest="moment",
            help=gettext_lazy(
                "fire the timers due at this moment (ISO 8601, e.g. 2026-12-01T09:00; "
                "without an offset, in the site's time zone)"
            ),
        )

    def handle(self, *args, moment, **options):
        at = None
        if moment:
            try:
                at = parse_datetime(moment)
            except ValueError:
                at = None
            if at is None:
                raise CommandError(_("%(value)s is not a date and time.") % {"value": moment})
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        fired = fire_due_timers(now=at)
        for timer in fired:
            self.stdout.write(
                _("instance #%(instance)s: %(timer)s (due %(due)s)")
                % {
                    "instance": timer.instance_id,
                    "timer": timer.bpmn_id,
                    "due": f"{timezone.localtime(timer.due_at):%Y-%m-%d %H:%M}",
                }
            )
        self.stdout.write(
            ngettext("%(count)s timer fired.", "%(count)s timers fired.", len(fired)) % {"count": len(fired)}
        )
