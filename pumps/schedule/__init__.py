"""Pure schedule arithmetic for intrathecal pumps (no ORM, no Django); the business calendar and the
carrier's shipping policy are ``core.calendar``.

- ``projection``: reservoir volume over time from the last refill and the program history, the
  moments of the low-reservoir alarm and of running empty.
- ``schedule``: the alarm, empty and 180-day dates, the refill due date, the kit's ship-by date and
  the warnings (``compute_schedule``).
- ``chart``: the geometry of the projected-volume picture drawn on the pump page.
"""
