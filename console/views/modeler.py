"""The modeler: a version's diagram and forms edited in the browser, validated and deployed by the
engine's own deployment service (all or nothing), and the form editor's check and preview.

The browser posts the diagram and its forms as files of one multipart request. Its size is judged
from the request's declared length before anything is read, so an oversized upload gets the
engine's clear refusal, not Django's bare 400 once it has read it."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from console.access import abilities, check_may_view, may_deploy
from console.form_editor import PREVIEW_LANGUAGES, check_form, preview_html
from console.selectors.modeler import (
    lane_roles,
    service_operations,
    version_files,
    version_for_modeler,
    versions_to_open,
)
from workflows.documents import DeploymentError, Problem, SourceFile
from workflows.exceptions import NotAllowed
from workflows.services.deployment import check_files, deploy_files

# The most forms one deployment from the modeler carries; with the engine's per-file limits this
# bounds what a request may declare.
MAX_FORMS = 40
_MAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,120}\.bpmn$")
NEW_MAIN_NAME = "new_process.bpmn"
NEW_FORM_NAME = "new_task.schema.json"


def _upload_limit() -> int:
    limits = settings.WORKFLOWS
    return limits["MAX_BPMN_BYTES"] + MAX_FORMS * limits["MAX_FORM_BYTES"] + 64 * 1024


def _form_limit() -> int:
    return settings.WORKFLOWS["MAX_FORM_BYTES"] + 4096


def refuse_oversized(limit: Callable[[], int]) -> Callable:
    """Refuse a request declaring more than `limit()` bytes before anything reads its body (the
    CSRF check would: Django would then answer a bare 400, or spool it all), with the message a
    deploy gives for an oversized file."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                size = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                size = 0
            if size > limit():
                message = _("The upload is %(size)s bytes; the limit is %(limit)s bytes.") % {
                    "size": f"{size:,}",
                    "limit": f"{limit():,}",
                }
                problem = {"file": "", "element": "", "line": None, "message": message, "text": message}
                return JsonResponse({"ok": False, "message": message, "problems": [problem]}, status=413)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _check_may_model(user) -> None:
    check_may_view(user)
    if not may_deploy(user):
        raise NotAllowed(_("Only people who may deploy process models use the modeler."))


@require_safe
@login_required
def modeler_new(request: HttpRequest) -> HttpResponse:
    """Start from the template diagram, or (`?open=<version id>`) open a deployed version."""
    _check_may_model(request.user)
    versions = list(versions_to_open())
    opened = request.GET.get("open", "")
    for version in versions:
        if str(version.pk) == opened:
            return redirect("console:modeler", process_id=version.model.process_id, number=version.number)
    xml = render_to_string("console/modeler/new_process.bpmn.html", request=request)
    form = json.dumps(_new_form(), ensure_ascii=False, indent=2)
    return _page(
        request, key="new", main_name=NEW_MAIN_NAME, xml=xml, forms={NEW_FORM_NAME: form}, versions=versions
    )


@require_safe
@login_required
def modeler(request: HttpRequest, process_id: str, number: int) -> HttpResponse:
    _check_may_model(request.user)
    version = version_for_modeler(process_id=process_id, number=number)
    files = version_files(version)
    return _page(
        request,
        key=f"{process_id}/v{number}",
        main_name=files.main_name,
        xml=files.xml,
        forms=files.forms,
        version=version,
    )


def _page(request, *, key, main_name, xml, forms, version=None, versions=None) -> HttpResponse:
    config = {
        "key": key,
        "mainName": main_name,
        "base": version.pk if version else "",
        "urls": {
            "validate": reverse("console:modeler_validate"),
            "deploy": reverse("console:modeler_deploy"),
            "formCheck": reverse("console:form_check"),
            "formPreview": reverse("console:form_preview"),
        },
        "roles": lane_roles(),
        "operations": service_operations(),
        "labels": _labels(),
        "hints": _hints(),
        "texts": _panel_texts(),
    }
    return render(
        request,
        "console/modeler/page.html",
        {
            "xml": xml,
            "forms": forms,
            "config": config,
            "version": version,
            "versions": versions,
            "preview_languages": PREVIEW_LANGUAGES,
            "can": abilities(request.user),
            "console_tab": "modeler",
        },
    )


@csrf_exempt  # checked by `csrf_protect` below, once the size is known to be acceptable
@require_POST
@login_required
@refuse_oversized(_upload_limit)
@csrf_protect
def modeler_validate(request: HttpRequest) -> JsonResponse:
    _check_may_model(request.user)
    try:
        warnings = check_files(files=_posted_files(request), user=request.user)
    except DeploymentError as exc:
        return JsonResponse({"ok": False, "problems": _problems(exc.problems), "warnings": []})
    return JsonResponse(
        {
            "ok": True,
            "message": _("No problems: this diagram can be deployed."),
            "problems": [],
            "warnings": _problems(warnings),
        }
    )


@csrf_exempt  # checked by `csrf_protect` below, once the size is known to be acceptable
@require_POST
@login_required
@refuse_oversized(_upload_limit)
@csrf_protect
def modeler_deploy(request: HttpRequest) -> JsonResponse:
    _check_may_model(request.user)
    try:
        deployments = deploy_files(files=_posted_files(request), user=request.user)
    except DeploymentError as exc:
        message = _("Nothing was deployed.")
        problems = _problems(exc.problems)
        return JsonResponse({"ok": False, "message": message, "problems": problems}, status=400)
    deployment = deployments[0]
    version = deployment.version
    values = {"process": version.model.process_id, "number": version.number}
    if deployment.created:
        message = _("%(process)s v%(number)s deployed.") % values
    else:
        message = _("Nothing changed since %(process)s v%(number)s; no new version.") % values
    return JsonResponse(
        {
            "ok": True,
            "created": deployment.created,
            "message": message,
            "url": _version_url(version.model.process_id, version.number),
            "warnings": _problems(deployment.warnings),
        }
    )


@csrf_exempt  # checked by `csrf_protect` below, once the size is known to be acceptable
@require_POST
@login_required
@refuse_oversized(_form_limit)
@csrf_protect
def form_check(request: HttpRequest) -> JsonResponse:
    _check_may_model(request.user)
    checked = check_form(request.POST.get("schema", ""))
    return JsonResponse({"ok": checked.ok, "problems": checked.problems, "warnings": checked.warnings})


@csrf_exempt  # checked by `csrf_protect` below, once the size is known to be acceptable
@require_POST
@login_required
@refuse_oversized(_form_limit)
@csrf_protect
def form_preview(request: HttpRequest) -> HttpResponse:
    _check_may_model(request.user)
    checked = check_form(request.POST.get("schema", ""))
    if not checked.ok:
        return render(request, "console/modeler/_form_problems.html", {"problems": checked.problems})
    return HttpResponse(preview_html(checked.schema, language=request.POST.get("language", "")))


# --- reading the upload -----------------------------------------------------------------------------


def _posted_files(request: HttpRequest) -> list[SourceFile]:
    """The diagram, then the forms, as the deployment service takes them; the other files of the
    version it was opened from (embedded diagrams, DMN tables) come along unchanged."""
    diagram = request.FILES.get("diagram")
    if diagram is None:
        raise DeploymentError([Problem(_("(none)"), _("No diagram was sent."))])
    name = diagram.name if _MAIN_NAME.match(diagram.name or "") else NEW_MAIN_NAME
    files = [SourceFile(name, _read(diagram))]
    forms = request.FILES.getlist("form")
    if len(forms) > MAX_FORMS:
        raise DeploymentError(
            [
                Problem(
                    _("forms"),
                    _("At most %(count)s forms deploy with one diagram.") % {"count": MAX_FORMS},
                )
            ]
        )
    files += [SourceFile(f.name, _read(f)) for f in forms]
    base = request.POST.get("base", "")
    if base.isdigit():
        sent = {f.name for f in files}
        files += [
            SourceFile(n, content.encode("utf-8"))
            for n, content in version_files(int(base)).companions
            if n not in sent
        ]
    return files


def _read(upload) -> bytes:
    # Whole: the request's size is already bounded, and the engine's refusal of an oversized file
    # states its real size.
    return upload.read()


def _problems(problems: list[Problem]) -> list[dict]:
    return [
        {"file": p.file, "element": p.element, "line": p.line, "message": p.message, "text": str(p)}
        for p in problems
    ]


def _version_url(process_id: str, number: int) -> str:
    try:
        return reverse("console:version", kwargs={"process_id": process_id, "number": number})
    except NoReverseMatch:  # the version page comes with the versions part of the console
        return reverse("console:modeler", kwargs={"process_id": process_id, "number": number})


def _labels() -> dict[str, str]:
    return {
        "roleGroup": _("Role"),
        "role": _("Role of the lane's tasks"),
        "roleHint": _("A lane's name decides who works its tasks: choose the lane name of a role."),
        "noRole": _("(none: the coordinators work its tasks)"),
        "unmappedLane": _("%s (maps to no role)"),
        "formGroup": _("Form"),
        "form": _("Form"),
        "formHint": _("The JSON Schema the task page shows; edited in the form editor beside the diagram."),
        "noForm": _("(no form)"),
        "newForm": _("New form…"),
        "newFormPrompt": _("File name of the new form (letters, digits, _ . -; ending in .json):"),
        "badFormName": _("A form's file name must be a plain name ending in .json."),
        "missingForm": _("%s (not among this version's forms)"),
        "dueIn": _("Due in"),
        "assignee": _("Assignee (username)"),
        "assigneeHint": _("Optional: the person who gets the task instead of the lane's role."),
        "operationGroup": _("Operation"),
        "operation": _("Registered operation"),
        "operationHint": _("The function the service task calls, as the domain registers it."),
        "noOperation": _("(choose an operation)"),
        "unknownOperation": _("%s (not registered)"),
        "resultVariable": _("Result variable"),
        "scriptGroup": _("Script"),
        "script": _("Script (Python)"),
        "scriptsGroup": _("Scripts before and after"),
        "preScript": _("Before the task (pre-script)"),
        "postScript": _("After the task (post-script)"),
        "conditionGroup": _("Condition"),
        "condition": _("Condition (Python expression)"),
    }


def _hints() -> dict[str, str]:
    return {
        "expression": _(
            "A Python expression over the process variables, for example  amount > 1000 and approved. "
            "No imports, no names starting with _, no attribute tricks; built-ins such as len, min, max, "
            "sum, sorted, and the functions now(), today(), add_duration(), days_between(), parse_date()."
        ),
        "script": _(
            "Python statements over the process variables; assignments become variables. No imports, no "
            "names starting with _, no files or network; functions: now(), today(), add_duration(), "
            "days_between(), parse_date(), refuse(message), ceil(), floor()."
        ),
        "timer": _(
            'Timer values are Python expressions: quote a literal, e.g. "PT2H" (duration), '
            '"2026-01-31T09:00:00+08:00" (date) or "R3/PT1H" (cycle), or name a variable.'
        ),
        "dueIn": _("An ISO 8601 duration after the task is created, e.g. P3D (three days) or PT4H."),
    }


def _panel_texts() -> dict[str, str]:
    """The properties panel's and palette's own texts that the reader sees most, translated."""
    return {
        "General": _("General"),
        "Name": _("Name"),
        "ID": _("ID"),
        "Documentation": _("Documentation"),
        "Element documentation": _("Element documentation"),
        "Process documentation": _("Process documentation"),
        "Timer": _("Timer"),
        "Type": _("Type"),
        "Value": _("Value"),
        "Date": _("Date"),
        "Duration": _("Duration"),
        "Cycle": _("Cycle"),
        "<none>": _("<none>"),
        "Process": _("Process"),
        "Create": _("Create"),
        "Activate hand tool": _("Activate hand tool"),
        "Activate lasso tool": _("Activate lasso tool"),
        "Activate create/remove space tool": _("Activate create/remove space tool"),
        "Activate global connect tool": _("Activate global connect tool"),
        "Create start event": _("Create start event"),
        "Create end event": _("Create end event"),
        "Create task": _("Create task"),
        "Create gateway": _("Create gateway"),
        "Create intermediate/boundary event": _("Create intermediate/boundary event"),
        "Create pool/participant": _("Create pool/participant"),
        "Create expanded sub-process": _("Create expanded sub-process"),
        "Create data object reference": _("Create data object reference"),
        "Create data store reference": _("Create data store reference"),
        "Create group": _("Create group"),
        "Append task": _("Append task"),
        "Append end event": _("Append end event"),
        "Append gateway": _("Append gateway"),
        "Append intermediate/boundary event": _("Append intermediate/boundary event"),
        "Change element": _("Change element"),
        "Delete": _("Delete"),
        "Connect to other element": _("Connect to other element"),
        "Add lane above": _("Add lane above"),
        "Add lane below": _("Add lane below"),
        "Divide into two lanes": _("Divide into two lanes"),
        "Divide into three lanes": _("Divide into three lanes"),
        "Add text annotation": _("Add text annotation"),
        "Messages": _("Messages"),
        "Message": _("Message"),
        "Multi-instance": _("Multi-instance"),
        "Executable": _("Executable"),
        "Participant": _("Participant"),
        "Signal": _("Signal"),
        "Error": _("Error"),
        "Escalation": _("Escalation"),
        # The panel header names the selected element's type.
        "Sequence Flow": _("Sequence Flow"),
        "User Task": _("User Task"),
        "Service Task": _("Service Task"),
        "Script Task": _("Script Task"),
        "Task": _("Task"),
        "Lane": _("Lane"),
        "Collaboration": _("Collaboration"),
        "Start Event": _("Start Event"),
        "End Event": _("End Event"),
        "Exclusive Gateway": _("Exclusive Gateway"),
        "Inclusive Gateway": _("Inclusive Gateway"),
        "Parallel Gateway": _("Parallel Gateway"),
        "Timer Intermediate Catch Event": _("Timer Intermediate Catch Event"),
        "Timer Boundary Event": _("Timer Boundary Event"),
        "Timer Start Event": _("Timer Start Event"),
        "Call Activity": _("Call Activity"),
    }


def _new_form() -> dict:
    """The template's form: one required note, titled in both languages as forms are."""
    return {
        "title": _("A new form"),
        "type": "object",
        "properties": {"note": {"type": "string", "title": "备注", "title_en": "Note", "maxLength": 500}},
        "required": ["note"],
    }
