"""Mark the shop orders of existing kit orders as a scheduled dispatch (fulfilled on the ship-by day)."""

from django.db import migrations


def mark(apps, schema_editor):
    Order = apps.get_model("shop", "Order")
    KitOrder = apps.get_model("pumps", "KitOrder")
    order_ids = KitOrder.objects.filter(order__isnull=False).values("order_id")
    Order.objects.filter(pk__in=order_ids).update(scheduled_dispatch=True)


class Migration(migrations.Migration):

    dependencies = [
        ('pumps', '0001_initial'),
        ('shop', '0003_order_scheduled_dispatch'),
    ]

    operations = [
        migrations.RunPython(mark, migrations.RunPython.noop),
    ]
