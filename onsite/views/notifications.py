"""A person's notifications: the bell's unread count (polled by the header), the list, opening one
(read, and on to its task or record), all read at once, and how to be told of each kind."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from onsite.models import Channel, NotificationKind
from onsite.selectors.notifications import describe, notifications_of, settings_of, unread_count
from onsite.services.notifications import mark_all_read, mark_read, save_settings

PAGE_SIZE = 20
# htmx's answer code for "stop polling".
STOP_POLLING = 286


@require_safe
def bell(request: HttpRequest) -> HttpResponse:
    """The header's bell and its unread count: the header asks for it on load and every 30 s."""
    if not request.user.is_authenticated:
        # Signed out meanwhile (session over): htmx stops polling, and no sign-in page lands in the bell.
        return HttpResponse(status=STOP_POLLING)
    return render(request, "onsite/notifications/bell.html", {"unread": unread_count(request.user)})


@login_required
@require_safe
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"notification": n, "text": describe(n)} for n in page]
    return render(
        request,
        "onsite/notifications/list.html",
        {"page": page, "rows": rows, "unread": unread_count(request.user)},
    )


@login_required
@require_safe
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Read, and on to what it is about (another person's notification does not exist: 404)."""
    notification = mark_read(user=request.user, notification_id=pk)
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("notifications")


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    count = mark_all_read(user=request.user)
    if count:
        messages.success(request, _("All notifications marked as read."))
    return redirect("notifications")


@login_required
@require_safe
def notification_settings(request: HttpRequest) -> HttpResponse:
    chosen = settings_of(request.user)
    rows = [
        {"kind": kind, "label": label, "channel": chosen[kind]} for kind, label in NotificationKind.choices
    ]
    return render(request, "onsite/notifications/settings.html", {"rows": rows, "channels": Channel.choices})


@login_required
@require_POST
def save_notification_settings(request: HttpRequest) -> HttpResponse:
    channels = {kind: request.POST[kind] for kind in NotificationKind.values if kind in request.POST}
    save_settings(user=request.user, channels=channels)
    messages.success(request, _("Your notification settings are saved."))
    return redirect("notification_settings")
