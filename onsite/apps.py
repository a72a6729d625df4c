from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnsiteConfig(AppConfig):
    name = "onsite"
    verbose_name = _("On-site service")

    def ready(self) -> None:
        # The domain plugs into the engine here: its service-task operations and who gets its tasks.
        from onsite import checks, operations  # noqa: F401 - registers the checks and the operations
        from onsite.assignment import resolve_assignee, speciality_refusal
        from onsite.engine_events import on_engine_event
        from workflows.assignment import register_assignee_resolver, register_pool_rule
        from workflows.events import subscribe

        register_assignee_resolver(resolve_assignee)
        register_pool_rule(speciality_refusal)
        subscribe(on_engine_event)
        register_schedules()
        register_console_links()


def register_schedules() -> None:
    """The domain's recurring jobs, by dotted path: nothing is imported here (the notification
    jobs, `notify_early_warnings` and `notify_missed_deadlines`, may not exist yet); the worker
    imports each job when it runs. Written to django-q2 after every migrate
    (`workflows.schedules.ensure_schedules`). Recurring visits have no schedule of their own: the
    programme's timer opens each one and the engine's every-minute job fires it."""
    from workflows.schedules import (
        DAILY,
        MINUTES,
        MONTHLY,
        Recurring,
        at_local_time,
        first_of_month_at,
        register,
    )

    register(
        # First straight after the first migrate (a new site's expiring contracts get their tasks
        # at once, so `make run` needs no command for them), then daily at that time: it is light.
        Recurring(
            "onsite.win_back_targets",
            "onsite.tasks.start_win_back_targets",
            DAILY,
            label=_("Win-back tasks for competitor contracts entering the window"),
        ),
        Recurring(
            "onsite.renewal_targets",
            "onsite.tasks.start_renewal_targets",
            DAILY,
            label=_("Renewal tasks for our contracts entering the window"),
        ),
        Recurring(
            "onsite.early_warnings",
            "onsite.tasks.notify_early_warnings",
            DAILY,
            first_run=at_local_time(7),
            label=_("The day's early warnings to the people concerned"),
        ),
        Recurring(
            "onsite.missed_deadlines",
            "onsite.tasks.notify_missed_deadlines",
            MINUTES,
            minutes=5,
            label=_("Notices of missed deadlines"),
        ),
        Recurring(
            "onsite.owed_emails",
            "onsite.tasks.send_owed_emails",
            MINUTES,
            minutes=5,
            label=_("Notification e-mails not sent yet, tried again"),
        ),
        Recurring(
            "onsite.incentive_reviews",
            "onsite.tasks.request_incentive_reviews",
            MONTHLY,
            first_run=first_of_month_at(2),
            label=_("Team leaders' incentive reviews of the month just ended"),
        ),
        Recurring(
            "onsite.appraisals",
            "onsite.tasks.generate_appraisals",
            MONTHLY,
            first_run=first_of_month_at(3),
            label=_("Appraisals of the month just ended"),
        ),
        Recurring(
            "onsite.programme_reports",
            "onsite.tasks.request_monthly_reports",
            MONTHLY,
            # After the appraisals and incentive reviews of the month are made.
            first_run=first_of_month_at(4),
            label=_("The programme report of the month just ended for every branch"),
        ),
    )


def register_console_links() -> None:
    """What the engine console filters instances by (the customer's region and team, through the
    business key, which is the customer's code), and the programmes pinned to a version."""
    from onsite.console_links import register

    register()
