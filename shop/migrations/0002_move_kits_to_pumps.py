"""Refill kits moved to the pumps app: the models leave shop's state; the tables and rows stay.

The tables keep their names (``shop_kitorder`` ...); ``pumps.0001_initial`` takes the models over with
``db_table`` set and moves their content types (and so their permissions and admin history).
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0001_initial'),
    ]
    # rx's pump models leave rx's state after the kit models that point at them have left shop's.
    run_before = [
        ('rx', '0004_move_pumps_to_pumps_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveIndex(
                    model_name='kitalert',
                    name='kitalert_open_idx',
                ),
                migrations.RemoveConstraint(
                    model_name='kitalert',
                    name='kitalert_one_open_per_kit_reason',
                ),
                migrations.RemoveConstraint(
                    model_name='kitalert',
                    name='kitalert_one_open_per_pump_reason',
                ),
                migrations.RemoveConstraint(
                    model_name='kitalert',
                    name='kitalert_resolved_after_opened',
                ),
                migrations.RemoveConstraint(
                    model_name='kitalertescalation',
                    name='kitalertescalation_once_per_level',
                ),
                migrations.RemoveIndex(
                    model_name='kitorder',
                    name='kitorder_pending_ship_by_idx',
                ),
                migrations.RemoveConstraint(
                    model_name='kitorder',
                    name='kitorder_one_per_pump_cycle',
                ),
                migrations.RemoveConstraint(
                    model_name='kitorder',
                    name='kitorder_quantity_positive',
                ),
                migrations.RemoveConstraint(
                    model_name='kitorder',
                    name='kitorder_status_known',
                ),
                migrations.RemoveConstraint(
                    model_name='kitorder',
                    name='kitorder_dispatched_has_time',
                ),
                migrations.RemoveField(
                    model_name='standingorder',
                    name='clinic',
                ),
                migrations.RemoveField(
                    model_name='standingorder',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='standingorder',
                    name='product',
                ),
                migrations.RemoveField(
                    model_name='standingorder',
                    name='pump',
                ),
                migrations.RemoveField(
                    model_name='kitalertescalation',
                    name='alert',
                ),
                migrations.RemoveField(
                    model_name='kitorder',
                    name='appointment',
                ),
                migrations.RemoveField(
                    model_name='kitorder',
                    name='clinic',
                ),
                migrations.RemoveField(
                    model_name='kitorder',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='kitorder',
                    name='order',
                ),
                migrations.RemoveField(
                    model_name='kitorder',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='kitorder',
                    name='product',
                ),
                migrations.RemoveField(
                    model_name='kitorder',
                    name='pump',
                ),
                migrations.RemoveField(
                    model_name='kitorder',
                    name='refill',
                ),
                migrations.RemoveField(
                    model_name='kitorder',
                    name='standing_order',
                ),
                migrations.DeleteModel(
                    name='KitAlert',
                ),
                migrations.DeleteModel(
                    name='KitAlertEscalation',
                ),
                migrations.DeleteModel(
                    name='KitOrder',
                ),
                migrations.DeleteModel(
                    name='StandingOrder',
                ),
            ],
        ),
    ]
