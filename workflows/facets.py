"""The ways the domain lets instances be filtered in the console (a customer's region, a team),
registered by the domain: the engine knows instances, not customers.

A facet offers choices and turns the chosen one into a filter on `ProcessInstance`; the console's
instance search and heat-map apply it inside their one query (usually a subquery on the business
key), so a facet never costs a query per instance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q


@dataclass(frozen=True)
class Facet:
    name: str  # the query-string parameter
    label: Any  # (lazy) text for the filter's label
    choices: Callable[[], list[tuple[str, str]]]  # (value, text) pairs, asked when a page shows them
    instances: Callable[[str], Q]  # the chosen value as a filter on ProcessInstance


_facets: dict[str, Facet] = {}


def register_facet(facet: Facet) -> Facet:
    _facets[facet.name] = facet
    return facet


def unregister_facet(name: str) -> None:
    _facets.pop(name, None)


def facets() -> list[Facet]:
    return list(_facets.values())


def facet_filter(chosen: dict[str, str]) -> Q:
    """The filter for the values chosen (`{name: value}`); unknown names and empty values are
    ignored."""
    combined = Q()
    for name, value in chosen.items():
        facet = _facets.get(name)
        if facet is not None and value:
            combined &= facet.instances(value)
    return combined
