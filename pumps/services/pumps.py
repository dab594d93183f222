"""Every write to pumps, programs, refills and appointments, with its validation and its audit row.

The pump's own record lives in ``pumps.services.records`` (create, update, deactivate), its history
in ``pumps.services.history`` (programs, refills, appointments); both are imported from here.

Each write runs in ``pumps.services.schedules.pump_change``: under the pump's row lock, then the stored
schedule is recomputed and ``pump_schedule_changed`` sent after commit. A write made for a person (a
page, the API or the admin passes its ``request``) is recorded in the PHI audit log as theirs, in the
same transaction; fixtures and system writes pass none. Errors name the field (``ValidationError``)
or say why the pump's state forbids the change (``Conflict``, 409).
"""

from __future__ import annotations

from .history import pump_appointment_set, pump_appointment_status_set, pump_program_set, pump_refill_record
from .records import clinic_date, pump_create, pump_deactivate, pump_update

__all__ = [
    "clinic_date",
    "pump_create",
    "pump_update",
    "pump_deactivate",
    "pump_program_set",
    "pump_refill_record",
    "pump_appointment_set",
    "pump_appointment_status_set",
]
