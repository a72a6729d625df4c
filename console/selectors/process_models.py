"""Process models and their versions, as the console lists them."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet

from workflows.models import ProcessInstance, ProcessModel


def process_models() -> QuerySet[ProcessModel]:
    """Every model with its latest version number, its number of versions and of instances still
    running (running, waiting, in error or suspended) on any version."""
    unfinished = ~Q(versions__instances__status__in=ProcessInstance.ENDED_STATUSES)
    return ProcessModel.objects.annotate(
        latest_number=Max("versions__number"),
        version_count=Count("versions", distinct=True),
        running_count=Count("versions__instances", filter=unfinished, distinct=True),
    ).order_by("process_id")
