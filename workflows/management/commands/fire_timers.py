from django.core.management.base import BaseCommand

from workflows.services import fire_due_timers


class Command(BaseCommand):
    help = "Fire every BPMN timer that is due now."

    def handle(self, *args, **options):
        fired = fire_due_timers()
        for timer in fired:
            self.stdout.write(
                f"instance #{timer.instance_id}: {timer.bpmn_id} (due {timer.due_at:%Y-%m-%d %H:%M})"
            )
        self.stdout.write(f"{len(fired)} timer(s) fired")
