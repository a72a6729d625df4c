"""The sales funnel read from indexes. A lead's stage moves carry the lead's customer and creation
time, and each finished stay its length in days, so the median days read
the stays in scope from one covering index instead of joining every stay to its lead and ranking
them all; the leads' figures come from a covering index in the order they are grouped by, and the
stalled leads from one in the order they are listed."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


class StayDays(models.Func):
    """`left_at` − `at` in days, to the hundredth, computed by the database."""

    template = 'ROUND((EXTRACT(EPOCH FROM ("left_at" - "at")) / 86400)::numeric, 2)'
    output_field = models.DecimalField(max_digits=8, decimal_places=2)

    def as_sqlite(self, compiler, connection, **extra_context):
        template = 'ROUND(julianday("left_at") - julianday("at"), 2)'
        return super().as_sql(compiler, connection, template=template, **extra_context)


def copy_from_leads(apps, schema_editor):
    Lead = apps.get_model("onsite", "Lead")
    LeadStageMove = apps.get_model("onsite", "LeadStageMove")
    lead = Lead.objects.filter(pk=OuterRef("lead_id"))
    LeadStageMove.objects.update(
        customer_id=Subquery(lead.values("customer_id")[:1]),
        lead_created_at=Subquery(lead.values("created_at")[:1]),
    )
    LeadStageMove.objects.filter(left_at__isnull=False).update(stay_days=StayDays())
    if schema_editor.connection.vendor == "postgresql":
        # Check the deferred foreign keys now: the table is altered next.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [("onsite", "0016_service_standards")]

    operations = [
        migrations.RemoveIndex(model_name="leadstagemove", name="stage_move_stay"),
        migrations.AddField(
            model_name="leadstagemove",
            name="customer",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="onsite.customer",
                verbose_name="customer",
            ),
        ),
        migrations.AddField(
            model_name="leadstagemove",
            name="lead_created_at",
            field=models.DateTimeField(null=True, verbose_name="lead created at"),
        ),
        migrations.AddField(
            model_name="leadstagemove",
            name="stay_days",
            field=models.DecimalField(
                blank=True, decimal_places=2, max_digits=8, null=True, verbose_name="days in the stage"
            ),
        ),
        migrations.RunPython(copy_from_leads, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="leadstagemove",
            name="customer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="onsite.customer",
                verbose_name="customer",
            ),
        ),
        migrations.AlterField(
            model_name="leadstagemove",
            name="lead_created_at",
            field=models.DateTimeField(verbose_name="lead created at"),
        ),
        migrations.RemoveIndex(model_name="lead", name="lead_stalled"),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("status__in", ["new", "following"])),
                fields=["stage_entered_at", "id"],
                name="lead_stalled",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                fields=[
                    "stage",
                    "status",
                    "owner",
                    "created_at",
                    "customer",
                    "stage_entered_at",
                    "estimated_value",
                    "won_value",
                ],
                name="lead_funnel",
            ),
        ),
        migrations.AddIndex(
            model_name="leadstagemove",
            index=models.Index(
                condition=models.Q(("stay_days__isnull", False)),
                fields=["to_stage", "stay_days", "lead_created_at", "customer"],
                name="stage_move_stay",
            ),
        ),
        migrations.AddIndex(
            model_name="leadstagemove",
            index=models.Index(
                condition=models.Q(("stay_days__isnull", False)),
                fields=["customer", "to_stage", "stay_days", "lead_created_at"],
                name="stage_move_customer_stay",
            ),
        ),
        migrations.AddConstraint(
            model_name="leadstagemove",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("left_at__isnull", True), ("stay_days__isnull", True)),
                    models.Q(("left_at__isnull", False), ("stay_days__isnull", False)),
                    _connector="OR",
                ),
                name="finished_stay_has_its_length",
            ),
        ),
    ]
