"""Read-mostly admin pages; every change to engine state goes through `workflows.services`."""

from django.contrib import admin

from workflows.models import (
    AuditEvent,
    DeployedFile,
    EngineEvent,
    HumanTask,
    LaneRole,
    MessageSubscription,
    ProcessInstance,
    ProcessModel,
    ProcessVersion,
    Timer,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeployedFileInline(admin.TabularInline):
    model = DeployedFile
    fields = ("name", "kind", "is_main")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ProcessModel)
class ProcessModelAdmin(ReadOnlyAdmin):
    list_display = ("process_id", "name", "created_at")
    search_fields = ("process_id", "name")


@admin.register(ProcessVersion)
class ProcessVersionAdmin(ReadOnlyAdmin):
    list_display = ("model", "number", "created_by", "created_at")
    list_filter = ("model",)
    exclude = ("spec",)
    inlines = [DeployedFileInline]


@admin.register(ProcessInstance)
class ProcessInstanceAdmin(ReadOnlyAdmin):
    list_display = ("id", "process_id", "business_key", "status", "started_at", "ended_at")
    list_filter = ("status", "process_id")
    search_fields = ("business_key",)
    exclude = ("state",)


@admin.register(HumanTask)
class HumanTaskAdmin(ReadOnlyAdmin):
    list_display = ("name", "instance", "lane", "role", "assignee", "status", "due_at", "created_at")
    list_filter = ("status", "role")


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    list_display = ("bpmn_id", "instance", "kind", "due_at")


@admin.register(MessageSubscription)
class MessageSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("message_name", "instance", "bpmn_id", "correlations")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "instance", "actor")
    list_filter = ("kind",)


@admin.register(EngineEvent)
class EngineEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "instance", "task_id", "handled_at", "attempts", "error")
    list_filter = ("kind", ("handled_at", admin.EmptyFieldListFilter))


@admin.register(LaneRole)
class LaneRoleAdmin(admin.ModelAdmin):
    list_display = ("lane", "role")
