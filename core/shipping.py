"""The pharmacy's shipping policy and calendar day, read from settings in one place.

``core.calendar`` is the pure arithmetic (business days, carrier cut-off, lead times); this module
builds it from ``PHARMACY_TIME_ZONE`` and the ``PUMP_KIT_*`` settings, read on each call so that
tests can override them.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from .calendar import BusinessCalendar, ShippingPolicy


def pharmacy_zone() -> ZoneInfo:
    """Return the pharmacy's time zone (its business calendar and the carrier's cut-off are in it)."""
    return ZoneInfo(settings.PHARMACY_TIME_ZONE)


def pharmacy_today(now: datetime | None = None) -> date:
    """Return the pharmacy's calendar day at ``now`` (default: the current moment)."""
    return timezone.localtime(now or timezone.now(), pharmacy_zone()).date()


def shipping_policy() -> ShippingPolicy:
    """Return the carrier's calendar and rules from settings (read each time: tests override them)."""
    hour, minute = (int(part) for part in settings.PUMP_KIT_CUTOFF.split(":"))
    extra = frozenset(date.fromisoformat(d) for d in settings.PUMP_KIT_EXTRA_HOLIDAYS)
    return ShippingPolicy(
        time_zone=settings.PHARMACY_TIME_ZONE,
        cutoff=time(hour, minute),
        lead_business_days=settings.PUMP_KIT_LEAD_BUSINESS_DAYS,
        safety_margin_days=settings.PUMP_KIT_SAFETY_MARGIN_DAYS,
        calendar=BusinessCalendar(extra_holidays=extra),
    )
