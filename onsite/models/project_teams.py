"""Project teams (项目小组, seed 001: 「由相关技术人员组成的项目小组」): the virtual team of seed 000 —
the account manager in front (业务层面), engineers and a solution expert behind (技术层面) — formed
for one customer or one lead. Members join and leave with dates; their contributions are recorded
and feed their share of a won lead."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from onsite.models.customers import Customer
from onsite.models.leads import Lead
from onsite.models.organisation import Speciality
from onsite.models.support import SupportRequest
from onsite.models.visits import Visit


class TeamRole(models.TextChoices):
    MANAGER = "manager", _("leading account manager")
    ENGINEER = "engineer", _("engineer")
    SOLUTION_EXPERT = "solution_expert", _("solution expert")


class ProjectTeam(models.Model):
    """A customer's or a lead's team (exactly one of the two), led by an account manager."""

    name = models.CharField(_("name"), max_length=100)
    customer = models.OneToOneField(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project_team",
        verbose_name=_("customer"),
    )
    lead = models.OneToOneField(
        Lead,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project_team",
        verbose_name=_("lead"),
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="project_teams_led",
        verbose_name=_("leading account manager"),
    )
    # The specialities the work needs (codes of `Speciality`).
    specialities = models.JSONField(_("specialities needed"), default=list, blank=True)
    formed_on = models.DateField(_("formed on"))
    formed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("formed by"),
    )

    class Meta:
        verbose_name = _("project team")
        verbose_name_plural = _("project teams")
        ordering = ["-formed_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False, lead__isnull=True)
                | models.Q(customer__isnull=True, lead__isnull=False),
                name="project_team_for_customer_or_lead",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def customer_served(self) -> Customer:
        """The customer whose context the team works in: its own, or its lead's."""
        return self.customer if self.customer_id is not None else self.lead.customer


class Membership(models.Model):
    """One spell in a team: from `joined_on` until `left_on` (the first day no longer a member).
    Leaving closes the spell; rejoining opens a new one, so the history is kept."""

    team = models.ForeignKey(
        ProjectTeam, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("project team")
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="project_memberships",
        verbose_name=_("person"),
    )
    role = models.CharField(_("role in the team"), max_length=16, choices=TeamRole.choices)
    speciality = models.CharField(_("speciality"), max_length=16, choices=Speciality.choices, blank=True)
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("added by"),
    )
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("removed by"),
    )

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        ordering = ["team", "joined_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "person"],
                condition=models.Q(left_on__isnull=True),
                name="one_open_membership_per_person",
                violation_error_message=_("This person is already a member of the team."),
            ),
            models.CheckConstraint(
                condition=models.Q(left_on__isnull=True) | models.Q(left_on__gte=models.F("joined_on")),
                name="membership_leaves_after_joining",
            ),
        ]
        indexes = [models.Index(fields=["person", "left_on"], name="membership_person_left")]

    def __str__(self) -> str:
        return f"{self.person} · {self.team}"


class ContributionKind(models.TextChoices):
    VISIT_PREPARED = "visit_prepared", _("prepared a visit")
    VISIT_ATTENDED = "visit_attended", _("attended a visit")
    SUPPORT_REQUEST = "support_request", _("completed a support request")
    SOLUTION_WORK = "solution_work", _("solution work")


class Contribution(models.Model):
    """What a member did for the team's customer or lead, once per (person, kind, key)."""

    team = models.ForeignKey(
        ProjectTeam, on_delete=models.CASCADE, related_name="contributions", verbose_name=_("project team")
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="team_contributions",
        verbose_name=_("person"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ContributionKind.choices)
    # What caused it (e.g. `visit:42`, `support:7`, `work:3`): recorded once however often it runs.
    key = models.CharField(_("key"), max_length=100)
    at = models.DateTimeField(_("at"))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("visit")
    )
    support_request = models.ForeignKey(
        SupportRequest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("support request"),
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("lead")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("team contribution")
        verbose_name_plural = _("team contributions")
        ordering = ["team", "at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["person", "kind", "key"], name="contribution_once_per_event")
        ]
        indexes = [models.Index(fields=["team", "person", "at"], name="contribution_team_person")]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_kind_display()}"


class TeamShareRule(models.Model):
    """A team role's share of a won lead's incentive. The shares of the roles a win's team has are
    scaled to add up to the whole; each role's part is split equally among its members who share.
    Changing a share makes a new rule; records keep the share they were made with."""

    role = models.CharField(_("role in the team"), max_length=16, choices=TeamRole.choices)
    share = models.DecimalField(
        _("share"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
    )
    active = models.BooleanField(pgettext_lazy("incentive rule", "active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team share rule")
        verbose_name_plural = _("team share rules")
        ordering = ["role", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["role"], condition=models.Q(active=True), name="one_active_share_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.share}"
