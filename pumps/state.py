"""The refill appointment's state machine, declared once: its statuses and the moves allowed.

``pumps.services.pumps.pump_appointment_status_set`` checks each move here; the admin offers only
the allowed ones.
"""

from django.db import models


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


# from -> allowed targets
APPOINTMENT_TRANSITIONS: dict[AppointmentStatus, set[AppointmentStatus]] = {
    AppointmentStatus.SCHEDULED: {AppointmentStatus.DONE, AppointmentStatus.CANCELLED},
    AppointmentStatus.DONE: set(),
    AppointmentStatus.CANCELLED: set(),
}
