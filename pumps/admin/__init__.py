"""The pumps back office, one module per concern: pumps (and their history), kits (orders, alerts)."""

from . import kits, pumps  # noqa: F401
