from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from onsite.demo import DEMO_CUSTOMERS, DEMO_LANE_OWNERS, DEMO_PASSWORD, DEMO_USERS
from workflows.exceptions import WorkflowError
from workflows.models import ProcessInstance
from workflows.services import start_instance

PROGRAMME = "onsite_programme"


class Command(BaseCommand):
    help = "Create the demo users (one per role) and a programme for the first demo customer. Idempotent."

    @transaction.atomic
    def handle(self, *args, **options):
        users = get_user_model().objects
        for demo in DEMO_USERS:
            user, created = users.get_or_create(
                username=demo.username,
                defaults={
                    "last_name": demo.last_name,
                    "first_name": demo.first_name,
                    "is_staff": True,
                    "is_superuser": demo.superuser,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if demo.role:
                user.groups.add(Group.objects.get(name=demo.role))
            self.stdout.write(f"user {demo.username}{' (new)' if created else ''}")
        customer = DEMO_CUSTOMERS[0]
        running = ProcessInstance.objects.filter(process_id=PROGRAMME, business_key=customer["key"]).exclude(
            status__in=ProcessInstance.ENDED_STATUSES
        )
        if running.exists():
            self.stdout.write(f"programme for {customer['name']} already running")
            return
        try:
            instance = start_instance(
                process_id=PROGRAMME,
                business_key=customer["key"],
                data={"customer_name": customer["name"], "lane_owners": DEMO_LANE_OWNERS},
                user=users.get(username="coordinator"),
            )
        except WorkflowError as exc:
            raise CommandError(
                f"{exc} Deploy the diagrams first: manage.py deploy_bpmn bpmn/*.bpmn"
            ) from None
        self.stdout.write(f"started programme #{instance.pk} for {customer['name']} ({instance.status})")
