"""Helpers shared by the pump tests: a clinic with staff, a patient, a pump with its history."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pumps.services import pumps as pump_services
from tests.factories import ClinicFactory, ClinicMemberFactory, PatientFactory, UserFactory

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)


def clinic_with_staff(**kwargs):
    clinic = ClinicFactory(**kwargs)
    user = UserFactory()
    ClinicMemberFactory(clinic=clinic, user=user)
    return clinic, user


def clinic_patient(clinic):
    return PatientFactory(account=None, clinic=clinic)


def make_pump(clinic=None, *, serial=None, model="8637-20", alarm="2", fill_at=None, volume="20", conc="2000",
              dose="500", appointment_at=None, now=None, battery=None):
    """A pump with one program and one refill (the seed example by default), as of ``now``."""
    clinic = clinic or clinic_with_staff()[0]
    patient = clinic_patient(clinic)
    now = now or fill_at or ny(2025, 1, 6, 10, 0)
    make_pump.counter += 1
    pump = pump_services.pump_create(
        patient=patient, model=model, serial_number=serial or f"SN{make_pump.counter:06d}",
        alarm_volume_ml=Decimal(alarm), implanted_on=date(2024, 6, 1), battery_replacement_on=battery, now=now,
    )
    if fill_at is not None:
        pump_services.pump_program_set(pump=pump, daily_dose_mcg=Decimal(dose), concentration_mcg_per_ml=Decimal(conc),
                                       effective_at=fill_at, now=now)
        pump_services.pump_refill_record(pump=pump, filled_at=fill_at, volume_filled_ml=Decimal(volume),
                                         concentration_mcg_per_ml=Decimal(conc), now=now)
    if appointment_at is not None:
        pump_services.pump_appointment_set(pump=pump, scheduled_at=appointment_at, now=now)
    pump.refresh_from_db()
    return pump


make_pump.counter = 0


def days(n):
    return timedelta(days=n)
