"""Pumps moved to the pumps app: the models leave rx's state; the tables and rows stay.

The tables keep their names (``rx_pump`` ...); ``pumps.0001_initial`` takes the models over with
``db_table`` set and moves their content types (and so their permissions and admin history).
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('rx', '0003_clinic_time_zone_validator'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveIndex(
                    model_name='pump',
                    name='pump_active_ship_by_idx',
                ),
                migrations.RemoveIndex(
                    model_name='pump',
                    name='pump_active_critical_idx',
                ),
                migrations.RemoveConstraint(
                    model_name='pump',
                    name='pump_serial_unique_per_manufacturer',
                ),
                migrations.RemoveConstraint(
                    model_name='pump',
                    name='pump_reservoir_20_or_40',
                ),
                migrations.RemoveConstraint(
                    model_name='pump',
                    name='pump_alarm_volume_within_reservoir',
                ),
                migrations.RemoveConstraint(
                    model_name='pump',
                    name='pump_model_matches_manufacturer_and_volume',
                ),
                migrations.RemoveConstraint(
                    model_name='pump',
                    name='pump_battery_after_implant',
                ),
                migrations.RemoveConstraint(
                    model_name='pumpprogram',
                    name='pumpprogram_one_per_moment',
                ),
                migrations.RemoveConstraint(
                    model_name='pumpprogram',
                    name='pumpprogram_concentration_positive',
                ),
                migrations.RemoveConstraint(
                    model_name='pumpprogram',
                    name='pumpprogram_dose_positive',
                ),
                migrations.RemoveConstraint(
                    model_name='pumprefill',
                    name='pumprefill_one_per_moment',
                ),
                migrations.RemoveConstraint(
                    model_name='pumprefill',
                    name='pumprefill_volume_positive_and_at_most_40',
                ),
                migrations.RemoveConstraint(
                    model_name='pumprefill',
                    name='pumprefill_concentration_positive',
                ),
                migrations.RemoveConstraint(
                    model_name='pumprefill',
                    name='pumprefill_residual_within_0_and_40',
                ),
                migrations.RemoveConstraint(
                    model_name='refillappointment',
                    name='refillappointment_one_scheduled_per_pump',
                ),
                migrations.RemoveConstraint(
                    model_name='refillappointment',
                    name='refillappointment_status_valid',
                ),
                migrations.RemoveField(
                    model_name='pump',
                    name='current_refill',
                ),
                migrations.RemoveField(
                    model_name='pump',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='pumprefill',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='pumprefill',
                    name='pump',
                ),
                migrations.RemoveField(
                    model_name='refillappointment',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='refillappointment',
                    name='pump',
                ),
                migrations.DeleteModel(
                    name='PumpProgram',
                ),
                migrations.DeleteModel(
                    name='PumpRefill',
                ),
                migrations.DeleteModel(
                    name='Pump',
                ),
                migrations.DeleteModel(
                    name='RefillAppointment',
                ),
            ],
        ),
    ]
