"""Small BPMN documents for engine tests, written inline where the point is one element."""

from itertools import pairwise

from workflows.documents import SourceFile

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="Definitions_test" targetNamespace="http://onsite.local/test">\n'
)


def definitions(body: str, *, before: str = "") -> str:
    return f"{HEADER}{before}{body}\n</bpmn:definitions>\n"


def process(body: str, *, process_id: str = "test_process", before: str = "", executable: bool = True) -> str:
    flag = "true" if executable else "false"
    return definitions(
        f'<bpmn:process id="{process_id}" isExecutable="{flag}">\n{body}\n</bpmn:process>', before=before
    )


def linear(*steps: str, process_id: str = "test_process", before: str = "") -> str:
    """start -> steps... -> end, each step an element whose id is its first attribute id."""
    import re

    ids = ["start", *[re.search(r'id="([^"]+)"', s).group(1) for s in steps], "end"]
    flows = "\n".join(
        f'<bpmn:sequenceFlow id="flow_{i}" sourceRef="{a}" targetRef="{b}" />'
        for i, (a, b) in enumerate(pairwise(ids))
    )
    body = '<bpmn:startEvent id="start" />\n' + "\n".join(steps) + '\n<bpmn:endEvent id="end" />\n' + flows
    return process(body, process_id=process_id, before=before)


def script_task(task_id: str, code: str) -> str:
    from xml.sax.saxutils import escape

    return f'<bpmn:scriptTask id="{task_id}"><bpmn:script>{escape(code)}</bpmn:script></bpmn:scriptTask>'


def user_task(task_id: str, *, name: str = "", form: str | None = None) -> str:
    ext = ""
    if form:
        ext = (
            "<bpmn:extensionElements><spiffworkflow:properties>"
            f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}" />'
            "</spiffworkflow:properties></bpmn:extensionElements>"
        )
    return f'<bpmn:userTask id="{task_id}" name="{name or task_id}">{ext}</bpmn:userTask>'


def source(name: str, text: str) -> SourceFile:
    return SourceFile(name, text.encode("utf-8"))
