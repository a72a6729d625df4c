from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from workflows.actors import SYSTEM
from workflows.exceptions import WorkflowError
from workflows.management.base import LocalisedCommand
from workflows.models import ProcessInstance, ProcessVersion
from workflows.services.migration import (
    UNFINISHED_STATUSES,
    InstanceCheck,
    migrate_instances,
    plan_migration,
    repin,
)
from workflows.versions import deployed_version, latest_version


class Command(LocalisedCommand):
    help = gettext_lazy(
        "Move the unfinished instances of a process from one version to another: first a dry run "
        "saying for each whether it can move and why not, then (without --dry-run) the move of the "
        "chosen ones, each on its own, recorded in its audit trail."
    )

    def add_arguments(self, parser):
        parser.add_argument("process_id")
        parser.add_argument(
            "--from",
            dest="source",
            type=int,
            help=gettext_lazy(
                "the version they run on (default: the latest earlier one with unfinished instances)"
            ),
        )
        parser.add_argument(
            "--to",
            dest="target",
            type=int,
            help=gettext_lazy("the version to move them to (default: the latest)"),
        )
        parser.add_argument(
            "--instance",
            dest="instance_ids",
            type=int,
            nargs="+",
            help=gettext_lazy("only these instances (default: every one that can move)"),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext_lazy("only say what would move; change nothing")
        )
        parser.add_argument(
            "--repin",
            action="store_true",
            help=gettext_lazy("also move the records pinned to the old version (e.g. programmes)"),
        )
        parser.add_argument("--reason", default="", help=gettext_lazy("why, for the audit trail"))

    def handle(self, *args, process_id, source, target, instance_ids, dry_run, repin, reason, **options):
        try:
            to_version = (
                latest_version(process_id) if target is None else deployed_version(process_id, target)
            )
            from_version = self.source(to_version) if source is None else deployed_version(process_id, source)
            plan = plan_migration(
                from_version=from_version, to_version=to_version, user=SYSTEM, instance_ids=instance_ids
            )
        except WorkflowError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("%(process)s v%(from)s → v%(to)s")
            % {"process": process_id, "from": from_version.number, "to": to_version.number}
        )
        for check in plan.checks:
            self.write_check(check)
        missing = sorted(set(instance_ids or ()) - {check.instance_id for check in plan.checks})
        for instance_id in missing:
            self.stdout.write(
                self.style.ERROR(
                    _("#%(id)s: not an unfinished instance of v%(from)s")
                    % {"id": instance_id, "from": from_version.number}
                )
            )
        refused = bool(missing) or (instance_ids is not None and len(plan.movable) < len(plan.checks))
        if dry_run:
            self.stdout.write(
                ngettext(
                    "Dry run: %(count)s of %(total)s instance can move; nothing was changed.",
                    "Dry run: %(count)s of %(total)s instances can move; nothing was changed.",
                    len(plan.checks),
                )
                % {"count": len(plan.movable), "total": len(plan.checks)}
            )
        else:
            chosen = (
                [check.instance_id for check in plan.checks]
                if instance_ids
                else [c.instance_id for c in plan.movable]
            )
            revisions = {check.instance_id: check.revision for check in plan.checks}
            outcomes = migrate_instances(
                instance_ids=chosen, to_version=to_version, user=SYSTEM, reason=reason, revisions=revisions
            )
            for outcome in outcomes:
                if outcome.migrated:
                    self.stdout.write(self.style.SUCCESS(_("#%(id)s: moved") % {"id": outcome.instance_id}))
                else:
                    self.stdout.write(
                        self.style.ERROR(
                            _("#%(id)s: not moved: %(reason)s")
                            % {"id": outcome.instance_id, "reason": outcome.message}
                        )
                    )
            moved = sum(outcome.migrated for outcome in outcomes)
            self.stdout.write(
                ngettext(
                    "%(count)s instance moved to v%(to)s.", "%(count)s instances moved to v%(to)s.", moved
                )
                % {"count": moved, "to": to_version.number}
            )
            refused = refused or (instance_ids is not None and moved < len(outcomes))
            if repin:
                count = self.repin(from_version, to_version)
                self.stdout.write(
                    ngettext(
                        "%(count)s pinned record moved to v%(to)s.",
                        "%(count)s pinned records moved to v%(to)s.",
                        count,
                    )
                    % {"count": count, "to": to_version.number}
                )
        if refused:
            raise CommandError(_("Some of the instances named cannot move."))

    def source(self, to_version: ProcessVersion) -> ProcessVersion:
        earlier = (
            ProcessVersion.objects.filter(
                model_id=to_version.model_id,
                number__lt=to_version.number,
                instances__status__in=UNFINISHED_STATUSES,
            )
            .defer("spec")
            .order_by("-number")
            .first()
        )
        if earlier is None:
            raise CommandError(
                _("No version before v%(number)s has unfinished instances.") % {"number": to_version.number}
            )
        return earlier

    def repin(self, from_version, to_version) -> int:
        try:
            return repin(from_version=from_version, to_version=to_version, user=SYSTEM)
        except WorkflowError as exc:
            raise CommandError(str(exc)) from None

    def write_check(self, check: InstanceCheck) -> None:
        values = {
            "id": check.instance_id,
            "key": check.business_key or "—",
            "status": ProcessInstance.Status(check.status).label,
            "waiting": ", ".join(name for _bpmn_id, name in check.waiting) or "—",
        }
        if check.movable:
            self.stdout.write(_("#%(id)s %(key)s (%(status)s), waiting at %(waiting)s: can move") % values)
        else:
            values["reasons"] = " ".join(check.reasons)
            self.stdout.write(
                self.style.WARNING(
                    _("#%(id)s %(key)s (%(status)s), waiting at %(waiting)s: cannot move: %(reasons)s")
                    % values
                )
            )
