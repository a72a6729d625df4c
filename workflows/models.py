"""The engine's tables.

Process definitions are immutable versions; an instance stores SpiffWorkflow's serialized state as
text (never `jsonb`, which reorders keys and silently empties restored task data) and the tables
below it (human tasks, timers, message subscriptions) are projections of that state, rebuilt on
every save so that inboxes and schedulers never deserialize a workflow.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ProcessModel(models.Model):
    """A deployable process, named by the id of its main BPMN process."""

    process_id = models.CharField(_("process id"), max_length=255, unique=True)
    name = models.CharField(_("name"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("process model")
        verbose_name_plural = _("process models")
        ordering = ["process_id"]
        permissions = [("deploy_processmodel", "Can deploy process models")]

    def __str__(self) -> str:
        return self.name or self.process_id


class ProcessVersion(models.Model):
    """One deployment of a process model: its files, forms and parsed specs never change."""

    model = models.ForeignKey(
        ProcessModel, on_delete=models.PROTECT, related_name="versions", verbose_name=_("process model")
    )
    number = models.PositiveIntegerField(_("version"))
    checksum = models.CharField(_("checksum"), max_length=64)
    # Serialized SpiffWorkflow specs ({"spec": ..., "subprocess_specs": ...}), stored once per
    # version so that instance state carries only task state.
    spec = models.TextField(_("specification"))
    serializer_version = models.CharField(_("serializer version"), max_length=16)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("deployed by"),
    )
    created_at = models.DateTimeField(_("deployed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("process version")
        verbose_name_plural = _("process versions")
        ordering = ["model", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["model", "number"], name="unique_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.model.process_id} v{self.number}"


class DeployedFile(models.Model):
    """A file as it was deployed with a version: the BPMN, its companions and its form schemas."""

    class Kind(models.TextChoices):
        BPMN = "bpmn", "BPMN"
        DMN = "dmn", "DMN"
        FORM = "form", _("form schema")

    version = models.ForeignKey(
        ProcessVersion, on_delete=models.CASCADE, related_name="files", verbose_name=_("process version")
    )
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    is_main = models.BooleanField(_("main file"), default=False)
    content = models.TextField(_("content"))

    class Meta:
        verbose_name = _("deployed file")
        verbose_name_plural = _("deployed files")
        ordering = ["version", "-is_main", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["version", "kind", "name"], name="unique_file_per_version"),
        ]

    def __str__(self) -> str:
        return self.name


class ProcessInstance(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")  # human tasks are open
        WAITING = "waiting", _("waiting")  # only timers, messages or called instances can move it
        COMPLETED = "completed", _("completed")
        ERROR = "error", _("error")
        SUSPENDED = "suspended", _("suspended")
        TERMINATED = "terminated", _("terminated")

    ACTIVE_STATUSES = (Status.RUNNING, Status.WAITING)
    ENDED_STATUSES = (Status.COMPLETED, Status.TERMINATED)

    version = models.ForeignKey(
        ProcessVersion, on_delete=models.PROTECT, related_name="instances", verbose_name=_("process version")
    )
    process_id = models.CharField(_("process id"), max_length=255, db_index=True)
    business_key = models.CharField(_("business key"), max_length=255, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, db_index=True)
    # Set when this instance runs a call activity of another instance (a linked call).
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("calling instance"),
    )
    parent_task_id = models.UUIDField(_("calling task id"), null=True, blank=True)
    # The top of the chain of linked calls (None for a top-level instance). Every change to any
    # instance of a family happens under the lock of this one row.
    root = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="descendants",
        verbose_name=_("top-level instance"),
    )
    state = models.TextField(_("state"))
    serializer_version = models.CharField(_("serializer version"), max_length=16)
    # Bumped on every save; a save that finds another revision fails instead of losing an update.
    revision = models.PositiveIntegerField(_("revision"), default=0)
    error = models.JSONField(_("error details"), null=True, blank=True)
    suspended_from = models.CharField(_("suspended from"), max_length=16, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("process instance")
        verbose_name_plural = _("process instances")
        ordering = ["-started_at"]
        indexes = [
            # The console's instance search by when they started ("started between").
            models.Index(fields=["started_at"], name="instance_started"),
            # A version's instances by status without reading their (large) rows: the heat-map joins
            # every count to this index only.
            models.Index(fields=["version", "status", "id"], name="instance_version_status"),
        ]
        permissions = [
            ("manage_processinstance", "Can suspend, resume, terminate and retry instances"),
            ("start_processinstance", "Can start instances of any deployed process"),
        ]

    def __str__(self) -> str:
        label = self.business_key or f"#{self.pk}"
        return f"{self.process_id} {label}"


class HumanTask(models.Model):
    """A user or manual task waiting for (or done by) a person: the inbox reads only this table."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    id = models.UUIDField(primary_key=True, help_text=_("SpiffWorkflow's task id"))
    instance = models.ForeignKey(
        ProcessInstance,
        on_delete=models.CASCADE,
        related_name="human_tasks",
        verbose_name=_("process instance"),
    )
    bpmn_id = models.CharField(_("BPMN id"), max_length=255)
    name = models.CharField(_("name"), max_length=255)
    lane = models.CharField(_("lane"), max_length=255, blank=True)
    role = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("role")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assignee"),
    )
    form_file = models.CharField(_("form"), max_length=255, blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("claimed by"),
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("completed by"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    data = models.JSONField(_("submitted data"), null=True, blank=True)

    class Meta:
        verbose_name = _("human task")
        verbose_name_plural = _("human tasks")
        ordering = ["created_at"]
        indexes = [
            # One ordered index scan per pool of an inbox, whatever the table size: the pool's
            # conditions are the index predicate, its order the index columns — soonest due first,
            # the undated last (an ascending index keeps NULLs last on PostgreSQL; the engine's
            # `selectors.inbox` reads dated and undated apart), then oldest first.
            models.Index(
                fields=["assignee", "due_at", "created_at", "id"],
                name="inbox_assigned",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["role", "due_at", "created_at", "id"],
                name="inbox_pool",
                condition=models.Q(status="open", assignee__isnull=True),
            ),
            # A person's recently completed tasks, latest first (the inbox's "completed" tab).
            models.Index(
                fields=["completed_by", "completed_at"],
                name="inbox_completed",
                condition=models.Q(status="completed"),
            ),
        ]
        permissions = [("reassign_humantask", "Can reassign any task")]

    def __str__(self) -> str:
        return self.name or self.bpmn_id


class TaskDraft(models.Model):
    """A person's unfinished form for an open task, kept as typed (it need not be valid yet): a
    manager at a customer's site never loses a half-written summary. One per task and person;
    completing the task removes its drafts."""

    task = models.ForeignKey(
        HumanTask, on_delete=models.CASCADE, related_name="drafts", verbose_name=_("task")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("person")
    )
    data = models.JSONField(_("form data"))
    saved_at = models.DateTimeField(_("saved at"))

    class Meta:
        verbose_name = _("task draft")
        verbose_name_plural = _("task drafts")
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="one_draft_per_task_and_person")]

    def __str__(self) -> str:
        return f"{self.task} ({self.user})"


class Timer(models.Model):
    """A BPMN timer event that is waiting, with the moment it is due."""

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="timers", verbose_name=_("process instance")
    )
    task_id = models.UUIDField(_("task id"))
    bpmn_id = models.CharField(_("BPMN id"), max_length=255)
    kind = models.CharField(_("kind"), max_length=32)
    due_at = models.DateTimeField(_("due"), db_index=True)

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        constraints = [models.UniqueConstraint(fields=["instance", "task_id"], name="unique_timer_task")]

    def __str__(self) -> str:
        return f"{self.bpmn_id} @ {self.due_at:%Y-%m-%d %H:%M}"


class MessageSubscription(models.Model):
    """A message catch event that is waiting, with the correlation values it will accept."""

    instance = models.ForeignKey(
        ProcessInstance,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("process instance"),
    )
    task_id = models.UUIDField(_("task id"))
    bpmn_id = models.CharField(_("BPMN id"), max_length=255)
    message_name = models.CharField(_("message"), max_length=255, db_index=True)
    correlations = models.JSONField(_("correlations"), default=dict, blank=True)

    class Meta:
        verbose_name = _("message subscription")
        verbose_name_plural = _("message subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["instance", "task_id"], name="unique_subscription_task")
        ]

    def __str__(self) -> str:
        return self.message_name


class LaneRole(models.Model):
    """Maps a BPMN lane name to the role (group) whose members work its tasks."""

    lane = models.CharField(_("lane"), max_length=255, unique=True)
    role = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+", verbose_name=_("role"))

    class Meta:
        verbose_name = _("lane mapping")
        verbose_name_plural = _("lane mappings")

    def __str__(self) -> str:
        return f"{self.lane} → {self.role.name}"


class Wait(models.Model):
    """An instance's stay at one element: a human task open, a timer armed or a message awaited.
    Open while the instance waits there; once the wait ends there (the task completed, the timer
    fired, the message delivered) it keeps its end and length, and a wait withdrawn (cancelled,
    interrupted, terminated) is removed. Written by the save that opens or ends it, so the
    heat-map reads one version's waits from their own indexes, whatever the size of the history."""

    class Kind(models.TextChoices):
        TASK = "task", _("task")
        TIMER = "timer", _("timer")
        MESSAGE = "message", _("message")

    # Both keys lead indexes below: no index of their own to write at every save.
    instance = models.ForeignKey(
        ProcessInstance,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("process instance"),
    )
    # The instance's version while it waited: a migration moves the open waits, not the ended ones.
    version = models.ForeignKey(
        ProcessVersion,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("process version"),
    )
    # None for the waits filled in from history whose event named no task.
    task_id = models.UUIDField(_("task id"), null=True, blank=True)
    bpmn_id = models.CharField(_("BPMN id"), max_length=255)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    started_at = models.DateTimeField(_("since"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)

    class Meta:
        verbose_name = _("wait")
        verbose_name_plural = _("waits")
        indexes = [
            # Who waits where now, per version (and since when, for the drill-down's order).
            models.Index(
                fields=["version", "bpmn_id", "started_at", "instance"],
                name="wait_open",
                condition=models.Q(ended_at=None),
            ),
            # The waits a period ended, with their lengths: the heat-map reads this index alone.
            models.Index(
                fields=["version", "ended_at", "bpmn_id", "seconds", "instance"],
                name="wait_ended",
                condition=models.Q(ended_at__isnull=False),
            ),
            models.Index(fields=["instance", "task_id"], name="wait_instance_task"),
        ]

    def __str__(self) -> str:
        return f"{self.bpmn_id} #{self.instance_id}"


class AuditEvent(models.Model):
    """Append-only history of everything that happened to an instance, and who did it."""

    class Kind(models.TextChoices):
        DEPLOYED = "deployed", _("deployed")
        STARTED = "started", _("started")
        CLAIMED = "claimed", _("claimed")
        RELEASED = "released", _("released")
        REASSIGNED = "reassigned", _("reassigned")
        RESCHEDULED = "rescheduled", _("due date changed")
        COMPLETED = "completed", _("task completed")
        REJECTED = "rejected", _("submission rejected")
        TIMER_FIRED = "timer_fired", _("timer fired")
        TIMER_SKIPPED = "timer_skipped", _("timer firings skipped")
        MESSAGE_DELIVERED = "message_delivered", _("message delivered")
        ERROR = "error", _("error")
        RETRIED = "retried", _("retried")
        SUSPENDED = "suspended", _("suspended")
        RESUMED = "resumed", _("resumed")
        TERMINATED = "terminated", _("terminated")
        FINISHED = "finished", _("instance finished")
        MIGRATED = "migrated", _("moved to another version")
        REPINNED = "repinned", _("pinned records moved to another version")

    instance = models.ForeignKey(
        ProcessInstance,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_events",
        verbose_name=_("process instance"),
    )
    version = models.ForeignKey(
        ProcessVersion,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_events",
        verbose_name=_("process version"),
    )
    task_id = models.UUIDField(_("task id"), null=True, blank=True)
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    at = models.DateTimeField(_("at"), db_index=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M:%S}"


class EngineEvent(models.Model):
    """What a save changed that someone may react to (a task created, assigned, completed or
    cancelled; an instance failed or finished), written in the save's transaction and handled after
    it commits (`workflows.events`): a rolled-back change leaves no event, and a failing reaction
    never undoes the change. Handled once each; what failed is kept with its error and retried."""

    class Kind(models.TextChoices):
        TASK_CREATED = "task_created", _("task created")
        TASK_ASSIGNED = "task_assigned", _("task assigned")
        TASK_COMPLETED = "task_completed", _("task completed")
        TASK_CANCELLED = "task_cancelled", _("task cancelled")
        INSTANCE_FAILED = "instance_failed", _("instance failed")
        INSTANCE_FINISHED = "instance_finished", _("instance finished")

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="+", verbose_name=_("process instance")
    )
    task_id = models.UUIDField(_("task id"), null=True, blank=True)
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    actor_id = models.IntegerField(_("caused by (user id)"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("engine event")
        verbose_name_plural = _("engine events")
        ordering = ["id"]
        indexes = [
            # The events still to handle, oldest first (the handler's and the sweep's read).
            models.Index(
                fields=["instance", "id"], name="engine_event_pending", condition=models.Q(handled_at=None)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.instance_id}"
