from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from onsite.exceptions import NotPermitted
from onsite.services.imports import ImportReport, column_title, import_customers
from onsite.thresholds import threshold
from workflows.actors import SYSTEM
from workflows.management.base import LocalisedCommand


class Command(LocalisedCommand):
    help = gettext_lazy(
        "Import group customers from a .csv or .xlsx file: all rows or none. "
        "With --dry-run, report what would be done and change nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help=gettext_lazy("a .csv (UTF-8 or GB18030) or .xlsx file, header on line 1")
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext_lazy("check every row, import nothing")
        )
        parser.add_argument(
            "--user", help=gettext_lazy("the coordinator recorded in the history (default: the system)")
        )
        parser.add_argument(
            "--encoding",
            help=gettext_lazy(
                "the CSV file's encoding (e.g. gb18030, utf-8) when it cannot be told from the bytes"
            ),
        )

    def handle(self, *args, file, dry_run, user, encoding=None, **options):
        acting_user = SYSTEM
        if user:
            acting_user = get_user_model().objects.filter(username=user).first()
            if acting_user is None:
                raise CommandError(_("No user has the username %(value)s.") % {"value": user})
        path = Path(file)
        try:
            with path.open("rb") as handle:
                # One byte over the limit is enough for the import to refuse the file as too large.
                content = handle.read(threshold("IMPORT_MAX_BYTES") + 1)
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc}) from None
        try:
            report = import_customers(
                name=path.name, content=content, user=acting_user, dry_run=dry_run, encoding=encoding
            )
        except NotPermitted as exc:
            raise CommandError(str(exc)) from None
        self.write_report(report)
        if not report.ok:
            raise CommandError(_("Nothing was imported: correct the errors above and import the file again."))

    def write_report(self, report: ImportReport) -> None:
        if report.encoding:
            self.stdout.write(_("Read as %(encoding)s text.") % {"encoding": report.encoding})
        for message in report.file_errors:
            self.stdout.write(self.style.ERROR(_("File: %(error)s") % {"error": message}))
        for message in report.warnings:
            self.stdout.write(self.style.WARNING(_("Warning: %(warning)s") % {"warning": message}))
        for row in report.rows:
            # The name as decoded, so that a wrong encoding shows before anything is imported.
            parts = (row.line, row.code, action_label(row.action), row.name)
            self.stdout.write("\t".join(str(part) for part in parts if part))
            for name, messages in row.errors.items():
                for message in messages:
                    self.stdout.write(self.style.ERROR(f"\t{column_title(name)}: {message}"))
            if row.action == "update":
                for name, (before, after) in row.changes.items():
                    self.stdout.write(f"\t{column_title(name)}: {before} -> {after}")
        counts = {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "failed": report.failed,
        }
        if report.applied:
            summary = (
                _("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.") % counts
            )
        elif report.dry_run:
            summary = (
                _(
                    "Dry run, nothing imported: %(created)s to create, %(updated)s to update, "
                    "%(unchanged)s unchanged, %(failed)s with errors."
                )
                % counts
            )
        else:
            summary = (
                _(
                    "Nothing imported: %(created)s to create, %(updated)s to update, "
                    "%(unchanged)s unchanged, %(failed)s with errors."
                )
                % counts
            )
        self.stdout.write(summary)


def action_label(action: str) -> str:
    labels = {
        "create": pgettext("import row", "create"),
        "update": pgettext("import row", "update"),
        "unchanged": pgettext("import row", "unchanged"),
        "error": pgettext("import row", "error"),
    }
    return labels.get(action, action)
