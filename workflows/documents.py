"""Reading uploaded BPMN, DMN and form files safely, and the problems reported about them.

SpiffWorkflow's own file helpers parse with lxml's defaults; here every document is parsed from
bytes by a hardened parser (no DTD, no entities, no network, no huge trees) after a size check,
and SpiffWorkflow is only ever handed the checked tree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from django.utils.translation import gettext as _
from lxml import etree

from workflows.refusals import Refusal

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = frozenset(
    {
        "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
        "http://www.omg.org/spec/DMN/20180521/MODEL/",
        "https://www.omg.org/spec/DMN/20191111/MODEL/",
        "https://www.omg.org/spec/DMN/20230324/MODEL/",
    }
)

_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a deployment, located as precisely as we can."""

    file: str
    message: str
    element: str = ""
    line: int | None = None

    def __str__(self) -> str:
        params = {"file": self.file, "element": self.element, "line": self.line}
        if self.element and self.line:
            where = _("%(file)s, element '%(element)s' (line %(line)s)") % params
        elif self.element:
            where = _("%(file)s, element '%(element)s'") % params
        elif self.line:
            where = _("%(file)s (line %(line)s)") % params
        else:
            where = self.file
        return _("%(where)s: %(message)s") % {"where": where, "message": self.message}


class DeploymentError(Refusal):
    """The files cannot be deployed; `problems` says why, each naming file and element."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class SourceFile:
    """A file offered for deployment: a BPMN diagram, a DMN table or a JSON form schema."""

    name: str
    content: bytes
    tree: etree._ElementTree | None = field(default=None, repr=False)

    @property
    def suffix(self) -> str:
        return PurePath(self.name).suffix.lower()

    @property
    def is_form(self) -> bool:
        return self.suffix == ".json"

    @property
    def kind(self) -> str:
        if self.is_form:
            return "form"
        root = self.tree.getroot() if self.tree is not None else None
        if root is not None and etree.QName(root).namespace in DMN_NAMESPACES:
            return "dmn"
        return "bpmn"

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")


def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_pis=True,
    )


def parse_xml(source: SourceFile, *, max_bytes: int) -> etree._ElementTree:
    """Parse a BPMN or DMN file, refusing anything oversized, malformed or carrying a DTD."""
    name = source.name
    if len(source.content) > max_bytes:
        message = _("The file is %(size)s bytes; the limit is %(limit)s bytes.") % {
            "size": f"{len(source.content):,}",
            "limit": f"{max_bytes:,}",
        }
        raise DeploymentError([Problem(name, message)])
    if not source.content.strip():
        raise DeploymentError([Problem(name, _("The file is empty."))])
    if _DOCTYPE.search(source.content):
        raise DeploymentError([Problem(name, _dtd_refused())])
    try:
        tree = etree.ElementTree(etree.fromstring(source.content, parser=_hardened_parser()))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        message = _("Not well-formed XML: %(error)s") % {"error": exc.msg}
        raise DeploymentError([Problem(name, message, line=line)]) from None
    # A DTD in another encoding (UTF-16) escapes the byte check; the parsed tree still shows it.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise DeploymentError([Problem(name, _dtd_refused())])
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    if namespace == BPMN_NS and etree.QName(root).localname == "definitions":
        return tree
    if namespace in DMN_NAMESPACES and etree.QName(root).localname == "definitions":
        return tree
    params = {"expected": BPMN_NS, "found": etree.QName(root).localname, "namespace": namespace}
    if namespace:
        message = _(
            "This is XML but not a BPMN 2.0 or DMN document: the root element must be <definitions> "
            "in the BPMN namespace %(expected)s, found <%(found)s> in %(namespace)s."
        )
    else:
        message = _(
            "This is XML but not a BPMN 2.0 or DMN document: the root element must be <definitions> "
            "in the BPMN namespace %(expected)s, found <%(found)s> without a namespace."
        )
    raise DeploymentError([Problem(name, message % params, line=root.sourceline)])


def _dtd_refused() -> str:
    return _("Document type declarations (DOCTYPE/ENTITY) are not allowed in process files.")


def parse_form(source: SourceFile, *, max_bytes: int) -> dict:
    """Parse a JSON form schema file (shape only; the schema itself is checked by `forms`)."""
    if len(source.content) > max_bytes:
        message = _("The form is %(size)s bytes; the limit is %(limit)s bytes.") % {
            "size": f"{len(source.content):,}",
            "limit": f"{max_bytes:,}",
        }
        raise DeploymentError([Problem(source.name, message)])
    try:
        schema = json.loads(source.content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        message = _("The form is not valid JSON: %(error)s") % {"error": exc}
        raise DeploymentError([Problem(source.name, message)]) from None
    except RecursionError:
        message = _("The form nests its brackets too deeply to read.")
        raise DeploymentError([Problem(source.name, message)]) from None
    if not isinstance(schema, dict):
        raise DeploymentError([Problem(source.name, _("A form schema must be a JSON object."))])
    return schema
