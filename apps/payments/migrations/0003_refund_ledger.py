"""Refunds become a ledger: many per payment, each with its status and what it gave back.

A refund written before is one that succeeded, for its whole payment.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F, OuterRef, Q, Subquery


def existing_refunds_succeeded(apps, schema_editor):
    Refund = apps.get_model("payments", "Refund")
    Payment = apps.get_model("payments", "Payment")
    Refund.objects.update(
        status="succeeded",
        settled_at=F("created_at"),
        order_id=Subquery(Payment.objects.filter(id=OuterRef("payment_id")).values("order_id")[:1]),
    )
    Payment.objects.filter(status="refunded").update(amount_refunded=F("amount"))


class Migration(migrations.Migration):
    dependencies = [("payments", "0002_events_in_order_stream")]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="amount_refunded",
            field=models.DecimalField(decimal_places=4, default=0, max_digits=19),
        ),
        migrations.AddField(
            model_name="payment",
            name="amount_refund_pending",
            field=models.DecimalField(decimal_places=4, default=0, max_digits=19),
        ),
        migrations.AlterField(
            model_name="refund",
            name="payment",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="refunds",
                to="payments.payment",
            ),
        ),
        migrations.AlterField(
            model_name="refund",
            name="provider_reference",
            field=models.CharField(blank=True, max_length=100, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="refund",
            name="order_id",
            field=models.UUIDField(null=True),
        ),
        migrations.AddField(
            model_name="refund",
            name="status",
            field=models.CharField(
                choices=[
                    ("requested", "requested"),
                    ("succeeded", "succeeded"),
                    ("failed", "failed"),
                ],
                default="succeeded",
                max_length=10,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="refund",
            name="lines",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="refund",
            name="failure_reason",
            field=models.CharField(blank=True, default="", max_length=500),
        ),
        migrations.AddField(
            model_name="refund",
            name="settled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(existing_refunds_succeeded, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="refund",
            name="order_id",
            field=models.UUIDField(),
        ),
        migrations.AlterModelOptions(name="refund", options={"ordering": ("created_at", "id")}),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=Q(status__in=["requested", "succeeded", "failed"]),
                name="refund_status_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=Q(amount_refunded__gte=0, amount_refund_pending__gte=0),
                name="payment_refunds_not_negative",
            ),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["order_id", "created_at"], name="refund_order_idx"),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(
                condition=Q(status="requested"), fields=["created_at"], name="refund_requested_idx"
            ),
        ),
    ]
