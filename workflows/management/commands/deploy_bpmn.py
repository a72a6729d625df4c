from django.core.management.base import BaseCommand, CommandError

from workflows.actors import SYSTEM
from workflows.documents import DeploymentError
from workflows.services import read_files
from workflows.services.deployment import deploy_files


class Command(BaseCommand):
    help = (
        "Deploy BPMN diagrams (with the DMN tables and JSON forms given alongside). Each diagram becomes "
        "the next version of its process model; unchanged diagrams keep their version. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="BPMN files, plus any DMN or form (.json) companions")

    def handle(self, *args, files, **options):
        try:
            sources = read_files(files)
        except OSError as exc:
            raise CommandError(str(exc)) from None
        try:
            deployments = deploy_files(files=sources, user=SYSTEM)
        except DeploymentError as exc:
            raise CommandError(
                "Nothing was deployed:\n" + "\n".join(f"  {p}" for p in exc.problems)
            ) from None
        for deployment in deployments:
            version = deployment.version
            state = "deployed" if deployment.created else "unchanged"
            self.stdout.write(f"{version.model.process_id} v{version.number} {state}")
            for warning in deployment.warnings:
                self.stdout.write(self.style.WARNING(f"  warning: {warning}"))
