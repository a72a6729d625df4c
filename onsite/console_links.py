"""The domain's links into the engine console: instances filtered by their customer's region or
team (an instance's business key is its customer's code), programmes pinned to the process
version their enrolments start, and the roles' names in words."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from onsite.models import Customer, Programme, Region, Team
from onsite.roles import ROLES
from workflows.assignment import register_role_labeler
from workflows.facets import Facet, register_facet
from workflows.pins import Pin, register_pin


def _regions() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Region.objects.values_list("pk", "name")]


def _teams() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Team.objects.order_by("name").values_list("pk", "name")]


def _in_region(value: str) -> Q:
    if not value.isdigit():
        return Q(pk__in=[])
    regions = Region.objects.within(int(value)).values("pk")
    return Q(business_key__in=Customer.objects.filter(region__in=regions).values("code"))


def _of_team(value: str) -> Q:
    if not value.isdigit():
        return Q(pk__in=[])
    customers = Customer.objects.filter(account_manager__staff_profile__team_id=int(value))
    return Q(business_key__in=customers.values("code"))


def _role_label(name: str) -> str | None:
    role = next((r for r in ROLES if r.code == name), None)
    if role is None:
        return None
    return role.name_zh if get_language() == "zh-hans" else role.name_en


def register() -> None:
    register_role_labeler(_role_label)
    register_facet(Facet("region", _("Region"), _regions, _in_region))
    register_facet(Facet("team", _("Team"), _teams, _of_team))
    register_pin(Pin(Programme, "process_version", _("programmes")))
