"""Moving a process's running instances to one of its versions: the dry run, the move of the chosen
instances, and repinning the records pinned to the old version."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from console.access import abilities, check_may_view
from console.selectors.migration import default_source, pinned_records, source_versions
from workflows.services import migrate_instances, plan_migration, repin
from workflows.versions import deployed_version


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def migration(request: HttpRequest, process_id: str, number: int) -> HttpResponse:
    check_may_view(request.user)
    target = deployed_version(process_id, number)
    sources = source_versions(target)
    source = _chosen_source(request, target, sources)
    outcomes = None
    if request.method == "POST" and source is not None:
        if request.POST.get("action") == "repin":
            count = repin(from_version=source, to_version=target, user=request.user)
            messages.success(
                request,
                ngettext(
                    "%(count)s pinned record now starts version %(number)s.",
                    "%(count)s pinned records now start version %(number)s.",
                    count,
                )
                % {"count": count, "number": target.number},
            )
            return redirect(f"{reverse('console:migration', args=[process_id, number])}?from={source.number}")
        chosen = _ids(request.POST.getlist("instance"))
        revisions = {
            pk: rev for pk in chosen if (rev := _int(request.POST.get(f"revision-{pk}"))) is not None
        }
        outcomes = migrate_instances(
            instance_ids=chosen,
            to_version=target,
            user=request.user,
            reason=request.POST.get("reason", "").strip()[:500],
            revisions=revisions,
        )
        sources = source_versions(target)  # their counts of unfinished instances changed
    plan = (
        plan_migration(from_version=source, to_version=target, user=request.user)
        if source is not None
        else None
    )
    return render(
        request,
        "console/migration/page.html",
        {
            "target": target,
            "source": source,
            "sources": sources,
            "plan": plan,
            "outcomes": outcomes,
            "moved": sum(o.migrated for o in outcomes) if outcomes else 0,
            "pinned": pinned_records(source) if source is not None else [],
            "can": abilities(request.user),
            "console_tab": "models",
        },
    )


def _chosen_source(request: HttpRequest, target, sources):
    wanted = _int(request.GET.get("from") or request.POST.get("from"))
    if wanted is None:
        return default_source(target, sources)
    for version in sources:
        if version.number == wanted:
            return version
    raise Http404(_("No such version to move instances from."))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ids(values: list[str]) -> list[int]:
    return list(dict.fromkeys(pk for value in values if (pk := _int(value)) is not None))
