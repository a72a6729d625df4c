from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflows.actors import SYSTEM
from workflows.documents import DeploymentError
from workflows.management.base import LocalisedCommand
from workflows.services import read_files
from workflows.services.deployment import deploy_files


class Command(LocalisedCommand):
    help = gettext_lazy(
        "Deploy BPMN diagrams (with the DMN tables and JSON forms given alongside). Each diagram becomes "
        "the next version of its process model; unchanged diagrams keep their version. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="+", help=gettext_lazy("BPMN files, plus any DMN or form (.json) companions")
        )

    def handle(self, *args, files, **options):
        try:
            sources = read_files(files)
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": exc.filename, "error": exc.strerror}
            ) from None
        try:
            deployments = deploy_files(files=sources, user=SYSTEM)
        except DeploymentError as exc:
            problems = "\n".join(f"  {problem}" for problem in exc.problems)
            raise CommandError(_("Nothing was deployed:") + "\n" + problems) from None
        for deployment in deployments:
            values = {"process": deployment.version.model.process_id, "number": deployment.version.number}
            if deployment.created:
                self.stdout.write(_("%(process)s v%(number)s deployed") % values)
            else:
                self.stdout.write(_("%(process)s v%(number)s unchanged") % values)
            for warning in deployment.warnings:
                self.stdout.write(self.style.WARNING(_("  warning: %(warning)s") % {"warning": warning}))
