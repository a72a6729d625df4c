"""Admin pages. The organisation, the industry playbook and the funnel stages' win probabilities
are reference data that administrators keep here; every business record is read-only, because it
changes only through `onsite.services` (and so through the BPMN tasks that call them)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from onsite.access import has_role
from onsite.models import (
    Appraisal,
    AppraisalBand,
    AppraisalLine,
    AppraisalScoreChange,
    AppraisalTarget,
    Contribution,
    Customer,
    CustomerChange,
    Enrolment,
    FunnelStageSetting,
    IncentiveRecord,
    IncentiveReview,
    IncentiveRule,
    KeyPerson,
    Lead,
    LeadActivity,
    LeadStageMove,
    Membership,
    Notification,
    PlaybookEntry,
    ProductHolding,
    Programme,
    ProjectTeam,
    Region,
    RenewalTarget,
    Report,
    ServiceStandard,
    StaffProfile,
    StageAssessment,
    StageChange,
    SupportRequest,
    Team,
    TeamShareRule,
    Tier,
    Visit,
    VisitSummary,
    WinBackTarget,
)
from onsite.roles import COORDINATOR
from onsite.selectors.standards import standard_in_effect
from onsite.services.standards import change_service_standard
from workflows import clock
from workflows.admin import ReadOnlyAdmin
from workflows.refusals import Refusal


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- reference data ----------------------------------------------------------------------------


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_select_related = ("parent",)
    list_display = ("code", "name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_select_related = ("region", "leader")
    list_display = ("name", "region", "leader")
    list_filter = ("region",)
    search_fields = ("name",)


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_select_related = ("user", "team", "region")
    list_display = ("user", "team", "region", "speciality")
    list_filter = ("team", "region", "speciality")
    search_fields = ("user__username", "user__first_name", "user__last_name")


@admin.register(PlaybookEntry)
class PlaybookEntryAdmin(admin.ModelAdmin):
    list_display = ("industry", "kind", "seq", "text")
    list_filter = ("industry", "kind")
    search_fields = ("text", "text_en")


@admin.register(FunnelStageSetting)
class FunnelStageSettingAdmin(admin.ModelAdmin):
    """The eight stages come with the migration; only each one's win probability is tuned here."""

    list_display = ("stage", "win_probability", "updated_at")
    list_editable = ("win_probability",)
    fields = ("stage", "win_probability", "updated_at")
    readonly_fields = ("stage", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- business records: read-only ---------------------------------------------------------------


class KeyPersonInline(ReadOnlyInline):
    model = KeyPerson
    fields = ("name", "title", "department", "decision_role", "contact", "relationship")


class ProductHoldingInline(ReadOnlyInline):
    model = ProductHolding
    fields = ("product", "provider", "ownership", "start_date", "expiry_date")


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_select_related = ("region", "account_manager")
    list_display = (
        "code",
        "name",
        "industry",
        "tier",
        "monthly_value",
        "potential",
        "region",
        "account_manager",
    )
    list_filter = ("industry", "tier", "region")
    search_fields = ("code", "name")
    inlines = [KeyPersonInline, ProductHoldingInline]


@admin.register(CustomerChange)
class CustomerChangeAdmin(ReadOnlyAdmin):
    list_select_related = ("customer", "actor")
    list_display = ("at", "customer", "entity", "label", "action", "source", "actor", "reason")
    list_filter = ("entity", "action", "source")
    search_fields = ("customer__code", "customer__name")
    date_hierarchy = "at"


@admin.register(Programme)
class ProgrammeAdmin(ReadOnlyAdmin):
    list_select_related = ("region", "process_version__model")
    list_display = ("name", "region", "start_date", "end_date", "cadence", "process_version", "status")
    list_filter = ("status", "cadence", "region")

    def get_queryset(self, request):
        # The version's stored specs are large and the list shows only its name.
        return super().get_queryset(request).defer("process_version__spec")


class StageChangeInline(ReadOnlyInline):
    model = StageChange
    fields = ("at", "from_stage", "to_stage", "actor", "reason")


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_select_related = ("customer", "programme")
    list_display = ("customer", "programme", "stage", "status", "enrolled_at", "ended_at")
    list_filter = ("status", "stage", "programme")
    search_fields = ("customer__code", "customer__name")
    inlines = [StageChangeInline]


@admin.register(StageAssessment)
class StageAssessmentAdmin(ReadOnlyAdmin):
    list_select_related = ("enrolment__customer", "enrolment__programme", "assessed_by")
    list_display = ("enrolment", "stage", "decision", "assessed_by", "at")
    list_filter = ("decision", "stage")


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_select_related = ("customer", "account_manager")
    list_display = (
        "customer",
        "number",
        "stage",
        "status",
        "planned_date",
        "cadence",
        "support_expected",
        "account_manager",
        "visited_at",
    )
    list_filter = ("status", "stage", "cadence")
    search_fields = ("customer__code", "customer__name")
    date_hierarchy = "planned_date"


@admin.register(VisitSummary)
class VisitSummaryAdmin(ReadOnlyAdmin):
    list_select_related = ("visit__customer",)
    list_display = ("visit", "status", "submitted_at", "on_time", "rework_count", "approved_at")
    list_filter = ("status", "on_time")


class LeadActivityInline(ReadOnlyInline):
    model = LeadActivity
    fields = ("at", "actor", "status_from", "status_to", "note")
    show_change_link = False


class LeadStageMoveInline(ReadOnlyInline):
    model = LeadStageMove
    fields = ("at", "actor", "from_stage", "to_stage", "expected_value", "left_at", "note")
    show_change_link = False


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_select_related = ("customer", "owner")
    list_display = (
        "customer",
        "description",
        "urgency",
        "estimated_value",
        "owner",
        "status",
        "stage",
        "stage_entered_at",
        "win_back",
    )
    list_filter = ("status", "stage", "urgency", "win_back")
    search_fields = ("customer__code", "customer__name", "description", "product")
    inlines = [LeadActivityInline, LeadStageMoveInline]


@admin.register(SupportRequest)
class SupportRequestAdmin(ReadOnlyAdmin):
    list_select_related = ("customer", "assignee")
    list_display = (
        "customer",
        "kind",
        "speciality",
        "status",
        "dispatch_priority",
        "respond_by",
        "complete_by",
        "assignee",
        "completed_at",
    )
    list_filter = ("status", "kind", "speciality", "dispatch_priority")
    search_fields = ("customer__code", "customer__name", "description")


@admin.register(WinBackTarget)
class WinBackTargetAdmin(ReadOnlyAdmin):
    list_select_related = ("customer", "product", "account_manager")
    list_display = ("customer", "product", "expiry_date", "account_manager", "status")
    list_filter = ("status",)
    search_fields = ("customer__code", "customer__name")


@admin.register(RenewalTarget)
class RenewalTargetAdmin(WinBackTargetAdmin):
    pass


@admin.register(IncentiveRule)
class IncentiveRuleAdmin(ReadOnlyAdmin):
    list_select_related = ("created_by",)
    list_display = ("event", "points", "amount", "active", "created_by", "created_at")
    list_filter = ("event", "active")


@admin.register(IncentiveRecord)
class IncentiveRecordAdmin(ReadOnlyAdmin):
    list_select_related = ("person", "customer")
    list_display = ("person", "event", "points", "amount", "period", "status", "customer")
    list_filter = ("status", "event", "period")
    search_fields = ("person__username", "customer__code", "description")


@admin.register(IncentiveReview)
class IncentiveReviewAdmin(ReadOnlyAdmin):
    list_select_related = ("team", "requested_by")
    list_display = ("team", "period", "status", "requested_by", "created_at", "decided_at")
    list_filter = ("status", "team")


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("person", "role", "speciality", "joined_on", "left_on", "added_by", "removed_by")
    readonly_fields = fields


@admin.register(ProjectTeam)
class ProjectTeamAdmin(ReadOnlyAdmin):
    list_select_related = ("customer", "lead", "leader")
    list_display = ("name", "customer", "lead", "leader", "formed_on")
    search_fields = ("name", "customer__code", "customer__name", "leader__username")
    inlines = [MembershipInline]


@admin.register(Contribution)
class ContributionAdmin(ReadOnlyAdmin):
    list_select_related = ("team", "person")
    list_display = ("person", "kind", "team", "at", "hours")
    list_filter = ("kind",)
    search_fields = ("person__username", "team__name", "note")


@admin.register(TeamShareRule)
class TeamShareRuleAdmin(ReadOnlyAdmin):
    list_select_related = ("created_by",)
    list_display = ("role", "share", "active", "created_by", "created_at")
    list_filter = ("role", "active")


# --- appraisal ---------------------------------------------------------------------------------


@admin.register(AppraisalBand)
class AppraisalBandAdmin(admin.ModelAdmin):
    """What a final appraisal score makes of the month's incentive amount: reference data."""

    list_display = ("min_score", "multiplier")


@admin.register(AppraisalTarget)
class AppraisalTargetAdmin(ReadOnlyAdmin):
    # Set through onsite.services.appraisals.set_appraisal_targets (the team leader, a coordinator).
    list_select_related = ("team", "set_by")
    list_display = ("team", "role", "period", "indicator", "target", "weight", "set_by", "set_at")
    list_filter = ("role", "team", "period")


class AppraisalLineInline(ReadOnlyInline):
    model = AppraisalLine
    fields = ("indicator", "value", "target", "weight", "attainment", "points")
    readonly_fields = fields
    show_change_link = False


class AppraisalScoreChangeInline(ReadOnlyInline):
    model = AppraisalScoreChange
    fields = ("kind", "score_from", "score_to", "reason", "by", "at")
    readonly_fields = fields
    show_change_link = False


@admin.register(Appraisal)
class AppraisalAdmin(ReadOnlyAdmin):
    list_select_related = ("person", "team")
    list_display = ("person", "team", "role", "period", "status", "computed_score", "score", "final_score")
    list_filter = ("status", "role", "period", "team")
    search_fields = ("person__username", "person__last_name")
    inlines = [AppraisalLineInline, AppraisalScoreChangeInline]


# --- the A/B/C service standards -----------------------------------------------------------------


class ServiceStandardForm(forms.ModelForm):
    """A new version of a tier's standard, made by `change_service_standard` (coordinators only, a
    reason required); its refusals are shown on the fields they concern."""

    user = None  # set per request by ServiceStandardAdmin.get_form

    class Meta:
        model = ServiceStandard
        fields = ("tier", *ServiceStandard.TERMS, "effective_from", "reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("effective_from")  # absent where the admin shows a version read-only
        if field is not None:
            field.required = False  # empty: from now
            field.help_text = _("Empty: from now on. Never in the past.")

    def _post_clean(self) -> None:
        # The service validates and stores; the model's own full_clean would want the audit fields.
        if self.errors:
            return
        data = self.cleaned_data
        try:
            self.instance = change_service_standard(
                tier=data["tier"],
                values={name: data[name] for name in ServiceStandard.TERMS},
                reason=data.get("reason", ""),
                effective_from=data.get("effective_from"),
                user=self.user,
            )
        except Refusal as exc:
            for field, messages in (exc.field_errors or {}).items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            if not exc.field_errors:
                self.add_error(None, str(exc))


@admin.register(ServiceStandard)
class ServiceStandardAdmin(ReadOnlyAdmin):
    """Every version of every tier's standard; a change is a new version from its effective time."""

    list_select_related = ("changed_by",)
    list_display = (
        "tier",
        "effective_from",
        "visit_cadence",
        "summary_deadline_hours",
        "support_response_hours",
        "support_completion_hours",
        "support_join_percent",
        "dispatch_priority",
        "changed_by",
        "reason",
    )
    list_filter = ("tier",)
    form = ServiceStandardForm

    def has_add_permission(self, request):
        return has_role(request.user, COORDINATOR)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_changeform_initial_data(self, request):
        tier = request.GET.get("tier", Tier.A)
        current = standard_in_effect(tier if tier in Tier.values else Tier.A)
        return {"tier": current.tier, **current.terms(), "effective_from": clock.now()}

    def save_model(self, request, obj, form, change):
        pass  # stored by the service when the form was validated


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Who was told what and when, and whether the e-mail went out (an e-mail still unsent long after
    its notification was made points at the mail server or the worker)."""

    list_select_related = ("recipient",)
    list_display = (
        "created_at",
        "recipient",
        "kind",
        "key",
        "in_app",
        "read_at",
        "emailed_at",
        "email_attempts",
    )
    list_filter = ("kind", "in_app")
    search_fields = ("recipient__username", "key")
    date_hierarchy = "created_at"


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    """Every report asked for, its filters, status and failure reason; the PDF itself is downloaded
    from its page (`/reports/<id>/`), under the reports' access rule."""

    list_select_related = ("requested_by",)
    list_display = ("requested_at", "kind", "title", "period", "status", "requested_by", "attempts", "size")
    list_filter = ("kind", "status")
    search_fields = ("title", "requested_by__username")
    date_hierarchy = "requested_at"
    exclude = ("content",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")
