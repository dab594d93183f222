"""The pump models (pumps.models.pumps) on PostgreSQL: the database refuses impossible pumps, programs,
refills and appointments; the clinic's time zone is a known one; the stored schedule is copied from the engine."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from pumps.models import SCHEDULE_FIELDS, Pump, PumpProgram, PumpRefill, RefillAppointment
from pumps.services.schedules import pump_schedule_compute
from rx.models import Clinic
from tests.pumps.fixtures import days, make_pump, ny

pytestmark = pytest.mark.django_db

FILL = ny(2025, 1, 6, 10, 0)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "America"])
def test_clinic_time_zone_must_be_a_known_zone(zone):
    with pytest.raises(ValidationError) as exc:
        Clinic(name="Bad zone clinic", time_zone=zone).full_clean()
    assert "time_zone" in exc.value.message_dict
    assert not Clinic.objects.filter(name="Bad zone clinic").exists()


def test_clinic_time_zone_accepts_an_iana_name():
    Clinic(name="Good zone clinic", time_zone="Europe/Berlin").full_clean()


def test_database_refuses_bad_reservoirs_alarms_doses_and_volumes():
    pump = make_pump(fill_at=FILL)
    for update in ({"reservoir_volume_ml": 30}, {"alarm_volume_ml": 0}, {"alarm_volume_ml": 25}, {"model": "8637-40"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Pump.objects.filter(pk=pump.pk).update(**update)
    for update in ({"daily_dose_mcg": 0}, {"concentration_mcg_per_ml": -1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            PumpProgram.objects.filter(pump=pump).update(**update)
    with pytest.raises(IntegrityError), transaction.atomic():
        PumpRefill.objects.filter(pump=pump).update(volume_filled_ml=41)
    with pytest.raises(IntegrityError), transaction.atomic():
        RefillAppointment.objects.create(pump=pump, scheduled_at=FILL + days(60))
        RefillAppointment.objects.create(pump=pump, scheduled_at=FILL + days(61))


def test_store_schedule_copies_the_engines_dates_rounds_the_flow_up_and_says_whether_anything_changed():
    pump = make_pump(fill_at=FILL)
    schedule = pump_schedule_compute(pump=pump, now=FILL)
    later = FILL + days(1)

    assert pump.store_schedule(schedule, current_refill_id=pump.current_refill_id, computed_at=later) is False
    assert pump.schedule_computed_at == later
    slower = replace(schedule, flow_ml_per_day=Decimal("0.2500000000001"), ship_by=None)
    assert pump.store_schedule(slower, current_refill_id=pump.current_refill_id, computed_at=later) is True
    assert (pump.flow_ml_per_day, pump.ship_by) == (Decimal("0.2500000001"), None)
    assert set(SCHEDULE_FIELDS) <= {f.name for f in Pump._meta.get_fields()}
