"""Every lead gets its place in the sales funnel, worked out from its status history, and each
stage gets its default win probability. Statuses are kept as they are (the warnings, the short
board and the win-back read them), so nothing is lost and going back only drops what was added.

How the old statuses map (a lead's history, `LeadActivity`, says when each step happened):
- created (new): 销售准备 (sales preparation), entered when the lead was created;
- first followed up (following): 找到切入点 (entry point) — a lead is born from a visit summary or a
  win-back pursuit, so the customer's picture is already collected and a need found; following it
  up is working that entry point;
- won: 成交, entered when it was won;
- lost: stays at the stage it had reached (preparation if never followed up, the entry point if it
  was), and is lost.
"""

from django.db import migrations, models

PREPARATION, ENTRY_POINT, WON = "preparation", "entry_point", "won"
OPEN_STAGES = ("preparation", "customer_profile", "entry_point", "sales_visit", "pain_points", "solution")
PROBABILITIES = {
    "preparation": 5,
    "customer_profile": 10,
    "entry_point": 20,
    "sales_visit": 30,
    "pain_points": 50,
    "solution": 70,
    "won": 100,
    "after_sale": 100,
}
BATCH = 2000


def stage_history(lead: dict, activities: list[dict]) -> list[dict]:
    """The funnel moves a lead made, from its row (`status`, `created_at`, `closed_at`,
    `last_activity_at`, `owner_id`) and its activities in order (`status_from`, `status_to`, `at`,
    `actor_id`, `note`). The last move is where it is now."""
    moves: list[dict] = []

    def enter(stage: str, at, actor_id, note: str = "") -> None:
        if moves and moves[-1]["to_stage"] == stage:
            return
        if moves:
            moves[-1]["left_at"] = at
        moves.append(
            {
                "from_stage": moves[-1]["to_stage"] if moves else "",
                "to_stage": stage,
                "at": at,
                "left_at": None,
                "actor_id": actor_id,
                "note": note,
            }
        )

    for activity in activities:
        if not moves:
            enter(PREPARATION, lead["created_at"], activity["actor_id"] or lead["owner_id"])
        if activity["status_to"] == "following" and moves[-1]["to_stage"] == PREPARATION:
            enter(ENTRY_POINT, activity["at"], activity["actor_id"], activity["note"])
        elif activity["status_to"] == "won":
            enter(WON, activity["at"], activity["actor_id"], activity["note"])
    if not moves:
        enter(PREPARATION, lead["created_at"], lead["owner_id"])
    # A status the history does not explain (a row written without its activity) still decides.
    status = lead["status"]
    if status == "won":
        enter(WON, lead["closed_at"] or lead["last_activity_at"], None)
    elif status == "following" and moves[-1]["to_stage"] == PREPARATION:
        enter(ENTRY_POINT, lead["last_activity_at"], None)
    return moves


def place_leads_in_the_funnel(apps, schema_editor):
    Lead = apps.get_model("onsite", "Lead")
    LeadActivity = apps.get_model("onsite", "LeadActivity")
    LeadStageMove = apps.get_model("onsite", "LeadStageMove")
    FunnelStageSetting = apps.get_model("onsite", "FunnelStageSetting")
    for stage, probability in PROBABILITIES.items():
        FunnelStageSetting.objects.get_or_create(stage=stage, defaults={"win_probability": probability})

    fields = ("pk", "status", "created_at", "closed_at", "last_activity_at", "owner_id", "estimated_value")
    last = 0
    while True:
        leads = list(Lead.objects.filter(pk__gt=last).order_by("pk").values(*fields)[:BATCH])
        if not leads:
            break
        last = leads[-1]["pk"]
        done = set(
            LeadStageMove.objects.filter(lead_id__in=[lead["pk"] for lead in leads]).values_list(
                "lead_id", flat=True
            )
        )
        history: dict[int, list[dict]] = {}
        for activity in (
            LeadActivity.objects.filter(lead_id__in=[lead["pk"] for lead in leads])
            .order_by("lead_id", "at", "id")
            .values("lead_id", "status_from", "status_to", "at", "actor_id", "note")
        ):
            history.setdefault(activity["lead_id"], []).append(activity)
        moves, changed = [], []
        for lead in leads:
            if lead["pk"] in done:
                continue
            steps = stage_history(lead, history.get(lead["pk"], []))
            moves += [
                LeadStageMove(lead_id=lead["pk"], expected_value=lead["estimated_value"], **step)
                for step in steps
            ]
            changed.append(Lead(pk=lead["pk"], stage=steps[-1]["to_stage"], stage_entered_at=steps[-1]["at"]))
        LeadStageMove.objects.bulk_create(moves)
        Lead.objects.bulk_update(changed, ["stage", "stage_entered_at"])
    if schema_editor.connection.vendor == "postgresql":
        # Check the deferred foreign keys now: the table is altered next (the stage constraint).
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def forget_the_funnel(apps, schema_editor):
    apps.get_model("onsite", "LeadStageMove").objects.all().delete()
    apps.get_model("onsite", "FunnelStageSetting").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("onsite", "0014_funnel"),
    ]

    operations = [
        migrations.RunPython(place_leads_in_the_funnel, forget_the_funnel),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=models.Q(models.Q(("stage__in", ("won", "after_sale")), ("status", "won")))
                | models.Q(~models.Q(("status", "won")), ("stage__in", OPEN_STAGES)),
                name="lead_stage_matches_status",
            ),
        ),
    ]
