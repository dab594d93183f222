"""Pure schedule arithmetic for intrathecal pumps and refill-kit shipping (no ORM, no Django).

- ``calendar``: business days (weekends, US federal holidays by rule, overridable), the carrier
  cut-off hour in the pharmacy's time zone, delivery lead times, ship-by dates.
- ``pump``: reservoir volume over time from the last refill and the program history, the alarm,
  empty and 180-day dates, the refill due date, the kit's ship-by date and the warnings.
"""
