"""The one place the engine's and the domain's refusals become responses.

A view calls one service; if the service refuses (`workflows.refusals.Refusal`), nothing was
changed, and:
- refused for want of access (`NotPermitted`, the engine's `NotAllowed` — but a task someone else
  took meanwhile is a message, below) or naming a record that
  does not exist (`NotFound`, `ObjectDoesNotExist`): 404 when the person was reading — a page of
  someone else's is indistinguishable from one that does not exist — and 403 when they were trying
  to change something they may read (leadership sees but changes nothing);
- refused with field errors: the view that shows the form catches it (`form_errors`) and renders the
  form again with each message at its field, everything typed kept;
- any other refusal: its message, and back to the page the request came from (the same URL for a
  form's POST), so a reload does not resubmit; to an htmx request, the message itself as its answer.
Anything else is a crash, and the 500 page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from onsite.exceptions import NotPermitted
from workflows.exceptions import NotAllowed, NotFound, TaskNotYours
from workflows.refusals import Refusal

READING = frozenset({"GET", "HEAD", "OPTIONS"})
ACCESS = (NotPermitted, NotAllowed)
MISSING = (NotFound, ObjectDoesNotExist)


class RefusalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, TaskNotYours):
            # Someone took the task meanwhile, from a page the person could see: say so.
            return self._message(request, exception)
        if isinstance(exception, MISSING) or (isinstance(exception, ACCESS) and request.method in READING):
            return response_for_exception(request, Http404(str(exception)))
        if isinstance(exception, ACCESS):
            return response_for_exception(request, PermissionDenied(str(exception)))
        if isinstance(exception, Refusal):
            return self._message(request, exception)
        return None

    @staticmethod
    def _message(request: HttpRequest, refusal: Refusal) -> HttpResponse:
        if getattr(request, "htmx", False):
            # A part of a page asked: the message goes where its answer would have gone.
            return render(request, "includes/refusal.html", {"message": refusal.message})
        messages.error(request, str(refusal.message))
        return HttpResponseRedirect(back_to(request))


def form_errors(refusal: Refusal) -> dict[str, list[str]]:
    """A refusal's messages by field for a form, the general message under "" when no field names
    it (the form shows those at the top)."""
    errors = {field: list(texts) for field, texts in refusal.field_errors.items()}
    if not errors:
        errors[""] = [str(refusal.message)]
    return errors


def back_to(request: HttpRequest) -> str:
    """Where a refused request goes back to, if it is this site's: the page it names (`next`, as a
    list's buttons do), else the page it came from (for a form, its own URL)."""
    named = next_page(request)
    if named:
        return named
    referer = request.headers.get("referer", "")
    ours = bool(referer) and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()})
    if request.method not in READING:
        return referer if ours else request.get_full_path()
    if referer == request.build_absolute_uri():
        return "/"  # the page refused its own reload: going back there would loop
    return referer if ours else "/"


def next_page(request: HttpRequest) -> str:
    """The page an action returns to (its `next`), if it is this site's; "" otherwise."""
    named = request.GET.get("next", "")
    if named and url_has_allowed_host_and_scheme(
        named, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return named
    return ""
