"""Orders carry their subtotal and the shipping they charge; the summary also what was refunded.

Orders written before shipping was charged keep the total they were paid with: their subtotal
is that total and their shipping charge 0.
"""

from decimal import Decimal

from django.db import migrations, models
from django.db.models import F, Q


def lines_were_the_total(apps, schema_editor):
    for name in ("Order", "OrderSummary"):
        apps.get_model("orders", name).objects.update(subtotal=F("total"))
    # A refund written before was one, of the whole payment: the order's total.
    apps.get_model("orders", "OrderSummary").objects.filter(payment_status="refunded").update(
        refunded_total=F("total")
    )


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_item_ordering_by_column")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="subtotal",
            field=models.DecimalField(decimal_places=4, max_digits=19, default=Decimal(0)),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="order",
            name="shipping_total",
            field=models.DecimalField(decimal_places=4, max_digits=19, default=Decimal(0)),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="ordersummary",
            name="subtotal",
            field=models.DecimalField(decimal_places=4, max_digits=19, default=Decimal(0)),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="ordersummary",
            name="shipping_total",
            field=models.DecimalField(decimal_places=4, max_digits=19, default=Decimal(0)),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="ordersummary",
            name="refunded_total",
            field=models.DecimalField(decimal_places=4, default=0, max_digits=19),
        ),
        migrations.RunPython(lines_were_the_total, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=Q(subtotal__gte=0, shipping_total__gte=0),
                name="order_parts_not_negative",
            ),
        ),
    ]
