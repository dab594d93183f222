"""Orders fulfilled on a day another flow chooses (refill kits on their ship-by day).

Existing kit orders are marked by ``pumps.0002_mark_kit_orders_scheduled`` (shop knows no kits).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0002_move_kits_to_pumps'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='scheduled_dispatch',
            field=models.BooleanField(default=False, editable=False, help_text='Fulfilled on a day another flow chooses (a refill kit on its ship-by day), not as soon as ready.'),
        ),
    ]
