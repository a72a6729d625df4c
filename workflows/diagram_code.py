"""Every piece of code a task spec carries: scripts, conditions, timer, cardinality, loop, payload,
correlation and DMN expressions. Deployment checks each one; a submission to an open form may not
set a variable any of them reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition

from workflows.sandbox.environment import names_in


def names_read(process_specs: list[Any]) -> frozenset[str]:
    """Every name the code of these process specs may read (a superset: words in strings count)."""
    return frozenset(
        name
        for process_spec in process_specs
        if process_spec is not None
        for task_spec in process_spec.task_specs.values()
        for _kind, code, _is_script in code_of(task_spec)
        for name in names_in(code)
    )


def code_of(task_spec) -> Iterator[tuple[str, str, bool]]:
    """Every piece of code SpiffWorkflow may run for this task: (what, code, is_script)."""
    for attribute, kind in (("script", "script"), ("prescript", "pre-script"), ("postscript", "post-script")):
        code = getattr(task_spec, attribute, None)
        if isinstance(code, str) and code.strip():
            yield kind, code, True
    for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
        args = getattr(condition, "args", None)
        if args and isinstance(args[0], str):
            yield "condition", args[0], False
    for attribute, kind in (("condition", "loop or completion condition"), ("cardinality", "cardinality")):
        code = getattr(task_spec, attribute, None)
        if isinstance(code, str) and code.strip():
            yield kind, code, False
    for param in (getattr(task_spec, "operation_params", None) or {}).values():
        if isinstance(param, dict) and isinstance(param.get("value"), str):
            yield "service parameter", param["value"], False
    definition = getattr(task_spec, "event_definition", None)
    definitions = (
        definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    )
    for d in definitions:
        if d is None:
            continue
        expression = getattr(d, "expression", None)
        if isinstance(expression, str) and expression.strip():
            yield f"{type(d).__name__.replace('EventDefinition', '').lower()} expression", expression, False
        for prop in [
            *(getattr(d, "correlation_properties", None) or []),
            *(getattr(d, "process_correlations", None) or []),
        ]:
            if isinstance(prop.retrieval_expression, str):
                yield "correlation expression", prop.retrieval_expression, False
    engine = getattr(task_spec, "dmnEngine", None)
    if engine is not None:
        yield from _dmn_code(engine.decision_table)


def _dmn_code(table) -> Iterator[tuple[str, str, bool]]:
    inputs = {i.id: i.expression for i in table.inputs}
    for expression in inputs.values():
        if expression:
            yield "DMN input expression", expression, False
    for rule in table.rules:
        for entry in rule.inputEntries:
            # Without an input expression SpiffWorkflow's DMN engine reads the variable its label names.
            source = entry.input.expression or entry.input.label or "value"
            for lhs in entry.lhs:
                if lhs and lhs.strip() not in ("-", ""):
                    yield "DMN input entry", _dmn_test(source, lhs), False
        for entry in rule.outputEntries:
            if entry.text and entry.text.strip():
                yield "DMN output entry", entry.text, False


def _dmn_test(input_expression: str, match: str) -> str:
    """The expression SpiffWorkflow's DMN engine builds from an input and a unary test."""
    if "?" in match:
        return match.replace("?", "dmninputexpr")
    try:
        compile(match, "<dmn>", "eval")
        return f"({input_expression}) == ({match})"
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return f"{input_expression}{match}"
