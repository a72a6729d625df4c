"""Where people work: regions (a branch and its counties), teams led by a team leader, and each
person's place and speciality. Roles themselves are Django groups (`onsite.roles`)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Speciality(models.TextChoices):
    """What a support engineer is called in for (the forms use the same codes)."""

    NETWORK = "network", _("network")
    ENGINEERING = "engineering", _("engineering")
    IT = "it", _("IT")
    SOLUTION = "solution", _("solutions")


class RegionQuerySet(models.QuerySet):
    def within(self, region: "Region | int") -> "RegionQuerySet":
        """The region and its counties: what "in a region" means everywhere (a branch covers its
        counties; a county only itself)."""
        pk = region.pk if isinstance(region, Region) else region
        return self.filter(models.Q(pk=pk) | models.Q(parent_id=pk))


class Region(models.Model):
    class Kind(models.TextChoices):
        BRANCH = "branch", _("branch")
        COUNTY = "county", _("county")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.BRANCH)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="counties",
        verbose_name=_("branch"),
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="teams", verbose_name=_("region")
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teams_led",
        verbose_name=_("team leader"),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["region", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="unique_team_name_per_region")]

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    """A person's place in the organisation; their role is their group."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_profile",
        verbose_name=_("user"),
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name=_("team")
    )
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
        verbose_name=_("region"),
    )
    speciality = models.CharField(_("speciality"), max_length=16, choices=Speciality.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return str(self.user)
